/** The type checker and the linter are part of the test command, so a red `tsc` or Biome fails CI. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

async function exitOf(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(cmd, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: `${x.stdout}${x.stderr}` };
  }
}

describe('static checks', () => {
  it('type-checks in strict mode (tsc --noEmit)', async () => {
    const r = await exitOf(process.execPath, [
      path.join(ROOT, 'node_modules/typescript/bin/tsc'),
      '--noEmit',
      '-p',
      ROOT,
    ]);
    expect(r.out.trim()).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);

  it('passes the linter and formatter (biome check)', async () => {
    const r = await exitOf(path.join(ROOT, 'node_modules/.bin/biome'), ['check', '--colors=off', '.']);
    expect(r.code, r.out.slice(-4000)).toBe(0);
  }, 120_000);
});
