import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDeviceStateStore } from '../../edge/src/device-state.js';
import { captureLogger } from '../helpers/console-capture.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-state-'));
  dirs.push(dir);
  return path.join(dir, 'device-state.json');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('file device state store', () => {
  it('keeps values per device across a restart once flushed', async () => {
    const file = tempFile();
    const { logger } = captureLogger();
    const a = new FileDeviceStateStore(file, logger, 60_000);
    a.set('WM-1', 'last-read', { volumeM3: 12.5, ts: 1 });
    a.set('WM-2', 'last-read', { volumeM3: 3, ts: 2 });
    await a.flush();
    const b = new FileDeviceStateStore(file, logger);
    expect(b.get('WM-1', 'last-read')).toEqual({ volumeM3: 12.5, ts: 1 });
    expect(b.get('WM-2', 'last-read')).toEqual({ volumeM3: 3, ts: 2 });
    expect(b.get('WM-3', 'last-read')).toBeUndefined();
  });

  it('stores a copy, not the caller object', () => {
    const { logger } = captureLogger();
    const s = new FileDeviceStateStore(tempFile(), logger);
    const value = { n: 1 };
    s.set('D', 'k', value);
    value.n = 2;
    expect(s.get('D', 'k')).toEqual({ n: 1 });
  });

  it('starts empty and says so when the file is corrupt', () => {
    const file = tempFile();
    writeFileSync(file, '{"WM-1": {"last-read": ');
    const { logger, lines } = captureLogger();
    const s = new FileDeviceStateStore(file, logger);
    expect(s.get('WM-1', 'last-read')).toBeUndefined();
    expect(lines().some((l) => l.msg === 'Device state unreadable; starting without it')).toBe(true);
  });

  it('writes the file atomically as valid JSON', async () => {
    const file = tempFile();
    const { logger } = captureLogger();
    const s = new FileDeviceStateStore(file, logger);
    s.set('D', 'k', [1, 2, 3]);
    await s.flush();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ D: { k: [1, 2, 3] } });
  });
});
