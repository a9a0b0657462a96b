import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCityConfig } from '../../../config/load.js';
import { parseTimeLimit } from '../../../config/schema/catalogue.js';
import { ConfigError } from '../../../drivers/sdk/errors.js';
import { createCatalogue, loadCatalogue } from '../../../hub/src/cases/catalogue.js';
import { UnknownCategoryError } from '../../../hub/src/cases/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CITY = path.join(ROOT, 'config/examples/city.yaml');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cg-catalogue-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const H = 3_600_000;

describe('catalogue', () => {
  it('the example city names the shipped catalogue, which has every class the system raises', () => {
    const city = loadCityConfig(CITY);
    const cat = createCatalogue(loadCatalogue(CITY, city.catalogue), 7.5 * H);
    for (const key of [
      'component:0205',
      'component:0207',
      'component:0208',
      'component:0206',
      'component:0216',
      'component:0101',
      'component:0118',
      'event:0406',
      'event:0407',
      'event:0402',
      'event:0103',
      'event:0401',
    ]) {
      expect(cat.has(key), key).toBe(true);
    }
    expect(cat.get('event:0406').name).toBe('道路积水');
    // Without a `catalogue:` entry the shipped one is used.
    expect(loadCatalogue(CITY, undefined).classes.length).toBe(cat.categories().length);
  });

  it('gives the limits of an urgency, in work or natural time, falling back to the default urgency', () => {
    const cat = createCatalogue(loadCatalogue(CITY, './catalogue.yaml'), 7.5 * H);
    expect(cat.limits('event:0406', 'urgent')).toEqual({
      dispatch: { ms: 15 * 60_000, basis: 'natural' },
      handle: { ms: 4 * H, basis: 'natural' },
      verify: { ms: H, basis: 'natural' },
    });
    // 一般 bridge inspection within 3 work days of 7.5 h, no verify limit for 特急.
    expect(cat.limits('component:0208', 'normal').handle).toEqual({ ms: 3 * 7.5 * H, basis: 'work' });
    expect(cat.limits('component:0208', 'critical').verify).toBeUndefined();
    // 路灯 has only 一般: a 特急 case gets the default urgency's limits.
    expect(cat.limits('component:0118', 'critical').dispatch).toEqual({ ms: H, basis: 'work' });
    expect(() => cat.get('event:0999')).toThrow(UnknownCategoryError);
    expect(() => cat.limits('component:0406', 'normal')).toThrow(/component:0406.*not in the catalogue/);
  });

  it('parses time limits and refuses malformed ones', () => {
    expect(parseTimeLimit('0m')).toEqual({ ms: 0, basis: 'natural' });
    expect(parseTimeLimit('2wd', 8 * H)).toEqual({ ms: 16 * H, basis: 'work' });
    expect(parseTimeLimit('30wm')).toEqual({ ms: 30 * 60_000, basis: 'work' });
    expect(parseTimeLimit('1.5d')).toEqual({ ms: 36 * H, basis: 'natural' });
    expect(parseTimeLimit('4 hours')).toBeUndefined();
    expect(parseTimeLimit('wd')).toBeUndefined();
  });

  it('reports every mistake with file, line, path and what was expected', () => {
    const file = path.join(tmp, 'bad.yaml');
    writeFileSync(
      file,
      [
        'classes:',
        '  - { kind: component, code: "208", name: 桥, limits: { normal: { dispatch: 1wh, handle: 3wd } } }',
        '  - { kind: event, code: "0406", name: 积水, defaultUrgency: urgent, limits: { normal: { dispatch: 1wh, handle: 4h } } }',
        '  - { kind: event, code: "0406", name: 积水, limits: { normal: { dispatch: soon, handle: 4h } } }',
        '  - { kind: device, code: "0101", name: x, limits: {} }',
      ].join('\n'),
    );
    let err: unknown;
    try {
      loadCatalogue(path.join(tmp, 'city.yaml'), 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues.map((i) => `${path.basename(i.file)} ${i.path}: ${i.message}`);
    expect(issues.join('\n')).toContain('bad.yaml:2 classes[0].code');
    expect(issues.join('\n')).toMatch(/bad\.yaml:4 classes\[2\]\.limits\.normal\.dispatch: .*time limit such as/);
    expect(issues.join('\n')).toMatch(/bad\.yaml:5 classes\[3\]\.kind/);
    // Cross-checks run only once the shapes are right; fix the shapes to see them.
    writeFileSync(
      file,
      [
        'classes:',
        '  - { kind: event, code: "0406", name: 积水, defaultUrgency: urgent, limits: { normal: { dispatch: 1wh, handle: 4h } } }',
        '  - { kind: event, code: "0406", name: 积水, limits: { normal: { dispatch: 1wh, handle: 4h } } }',
      ].join('\n'),
    );
    expect(() => loadCatalogue(path.join(tmp, 'city.yaml'), 'bad.yaml')).toThrow(
      /classes\[0\]\.limits: no limits for the default urgency "urgent"[\s\S]*classes\[1\]\.code: duplicate class event:0406/,
    );
  });
});
