/**
 * The chaos test, short version (issue 6 item 6): hub + 3 edges + GPS simulators + a private
 * InfluxDB, all real processes. One edge is killed with SIGKILL and restarted, one gateway's
 * uplink is cut at a TCP proxy and restored, the hub is killed with SIGKILL and restarted,
 * InfluxDB is stopped and started again, then hung with SIGSTOP and resumed. After the drain,
 * every reading an edge took is in InfluxDB exactly once with its original timestamp, and every
 * epoch the receiver wrote while its edge was alive is there. The long run is `npm run chaos`.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from './run-chaos.js';
import { SHORT_SCHEDULE_MS, shortSchedule } from './schedule.js';

describe('chaos', () => {
  it('loses nothing and doubles nothing through edge, hub and InfluxDB crashes and a cut uplink', async () => {
    const { devices, summary } = await runChaos({
      schedule: shortSchedule,
      rateHz: 5,
      keep: false,
      drainTimeoutMs: 120_000,
      progress: () => undefined,
    });
    for (const d of devices) console.log(JSON.stringify(d));
    console.log(JSON.stringify(summary));

    expect(summary.events.map((e) => e.what)).toEqual([
      'SIGKILL edge',
      'cut uplink (refuse)',
      'SIGKILL hub',
      'SIGTERM influxd',
      'SIGSTOP influxd',
    ]);
    for (const d of devices) {
      // Each device produced through the whole run (readings before and after every fault).
      expect(d.produced, d.device).toBeGreaterThan(5 * (SHORT_SCHEDULE_MS / 1000) * 0.5);
      expect({ device: d.device, lost: d.lost, duplicated: d.duplicated }).toEqual({
        device: d.device,
        lost: 0,
        duplicated: 0,
      });
      expect(d.increasing, d.device).toBe(true);
      expect(d.unknownTs, d.device).toBe(0);
      expect(d.endsMatch, d.device).toBe(true);
      expect(d.holesOutsideDead, d.device).toEqual([]);
      expect(d.eventsStored, d.device).toBe(d.eventsProduced);
    }
    // The killed edge missed the epochs of its dead window, and only those.
    expect(devices.some((d) => d.missingWhileDead > 0)).toBe(true);
    expect(summary.ok).toBe(true);
  }, 240_000);
});
