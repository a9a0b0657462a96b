import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hubConfigSchema } from '../../config/schema/hub.js';
import { verifyPasswordHash } from '../../hub/src/broker/passwords.js';
import { ROOT } from '../helpers/cli-process.js';

function hashViaCli(password: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/citygrid.mjs'), 'hash-password'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stdin.end(password);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out: out.trim() })));
}

describe('citygrid hash-password', () => {
  it('prints a scrypt hash the hub config accepts and that verifies the password', async () => {
    const { code, out } = await hashViaCli('correct horse');
    expect(code).toBe(0);
    const parsed = hubConfigSchema.safeParse({
      city: 'c.yaml',
      accounts: { gateways: [{ id: 'gw-1', passwordHash: out }] },
    });
    expect(parsed.success).toBe(true);
    expect(await verifyPasswordHash('correct horse', out)).toBe(true);
    expect(await verifyPasswordHash('wrong horse', out)).toBe(false);
  }, 30_000);
});
