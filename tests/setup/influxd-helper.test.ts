import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TestProject } from 'vitest/node';
import { influxdAvailable, startInfluxd } from '../helpers/influxd.js';
import setup from './global-setup.js';

describe('influxd test helper and global setup', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('tells a missing binary apart from a present one', () => {
    expect(influxdAvailable('citygrid-no-such-influxd')).toBe(false);
  });

  it('startInfluxd rejects, naming the URL, when the binary cannot run', async () => {
    await expect(startInfluxd({ binary: 'citygrid-no-such-influxd', readyTimeoutMs: 2000 })).rejects.toThrow(
      /influxd did not become ready on http:\/\/127\.0\.0\.1:\d+/,
    );
  });

  it('the global setup fails (never skips) when influxd is missing', async () => {
    vi.stubEnv('INFLUXD_PATH', 'citygrid-no-such-influxd');
    const provided: Record<string, unknown> = {};
    const project = { provide: (k: string, v: unknown) => (provided[k] = v) } as unknown as TestProject;
    await expect(setup(project)).rejects.toThrow(/influxd not found/);
    expect(provided).toEqual({});
  });
});
