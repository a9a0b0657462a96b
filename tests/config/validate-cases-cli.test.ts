/** `citygrid config validate` on the case catalogue and rules, alone and through the city that names them. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin/citygrid.mjs');
const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'cg-config-cases-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function validate(...files: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'config', 'validate', ...files], { cwd: ROOT });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

const city = (extra: string) =>
  [
    'city: { id: c, name: c }',
    'districts:',
    '  - { id: d, name: d, adminCode: "330106", boundary: [[120, 30], [121, 30], [121, 31]] }',
    extra,
  ].join('\n');

describe('citygrid config validate (cases)', () => {
  it('accepts the shipped catalogue and rules', async () => {
    const r = await validate('config/examples/catalogue.yaml', 'config/examples/rules.yaml');
    expect(r.err).toBe('');
    expect(r.out).toContain('config/examples/catalogue.yaml: ok (catalogue config)');
    expect(r.out).toContain('config/examples/rules.yaml: ok (rules config)');
    expect(r.code).toBe(0);
  });

  it('a city reports the mistakes of the catalogue and rules it names, with their file and line', async () => {
    writeFileSync(
      path.join(dir, 'catalogue.yaml'),
      'classes:\n  - { kind: event, code: "0406", name: 积水, limits: { normal: { dispatch: 1wh, handle: 4h } } }\n  - { kind: event, code: "406", name: x, limits: {} }\n',
    );
    writeFileSync(path.join(dir, 'city.yaml'), city('catalogue: ./catalogue.yaml'));
    const bad = await validate(path.join(dir, 'city.yaml'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/catalogue\.yaml:3: classes\[1\]\.code: .*4-digit class code/);

    writeFileSync(
      path.join(dir, 'catalogue.yaml'),
      'classes:\n  - { kind: event, code: "0406", name: 积水, limits: { normal: { dispatch: 1wh, handle: 4h } } }\n',
    );
    writeFileSync(
      path.join(dir, 'rules.yaml'),
      'rules:\n  - { id: ice, type: staleness, category: "event:0407", maxSilence: { normal: 5m } }\n',
    );
    writeFileSync(path.join(dir, 'city.yaml'), city('catalogue: ./catalogue.yaml\nrules: ./rules.yaml'));
    const unknown = await validate(path.join(dir, 'city.yaml'));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/rules\.yaml: rules\[0\]\.category: category "event:0407" is not in the catalogue/);
    // The same rules file alone is well-formed: categories are checked against the city's catalogue.
    expect((await validate(path.join(dir, 'rules.yaml'))).code).toBe(0);
  });
});
