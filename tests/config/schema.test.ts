import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../config/schema/common.js';
import { jsonSchemas } from '../../config/schema/json-schema.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('config schema', () => {
  it('the committed JSON Schemas are current (run `npm run schema` after changing a zod schema)', () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const committed = readFileSync(path.join(ROOT, 'config/generated', `${name}.schema.json`), 'utf8');
      expect(JSON.parse(committed), `${name}.schema.json`).toEqual(JSON.parse(JSON.stringify(schema)));
    }
  });

  it('describes every property, so the README and editors can show what each option means', () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.properties && typeof n.properties === 'object') {
        for (const [key, child] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          if (key === '$schema') continue;
          const described =
            typeof child.description === 'string' ||
            child.type === 'object' ||
            child.anyOf !== undefined ||
            child.oneOf !== undefined;
          if (!described) undescribed.push(`${at}.${key}`);
          walk(child, `${at}.${key}`);
        }
      }
      for (const k of ['items', 'anyOf', 'oneOf', 'allOf', 'prefixItems']) {
        const v = n[k];
        if (Array.isArray(v)) {
          for (const [i, c] of v.entries()) walk(c, `${at}.${k}[${i}]`);
        } else if (v) walk(v, `${at}.${k}`);
      }
    };
    for (const [name, schema] of Object.entries(jsonSchemas())) walk(schema, name);
    expect(undescribed).toEqual([]);
  });

  it('parses durations and refuses malformed ones', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('fast')).toBeUndefined();
  });
});
