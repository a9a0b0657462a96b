/**
 * What the chaos test does to the system, and when (ms after the warm-up). Faults recover on
 * their own after `forMs`; the run waits for every recovery before it counts.
 */
import type { CutMode } from '../helpers/tcp-proxy.js';

export type Fault =
  | { kind: 'kill-edge'; gateway: string }
  | { kind: 'kill-hub' }
  | { kind: 'stop-influx' }
  | { kind: 'hang-influx' }
  | { kind: 'cut-uplink'; gateway: string; mode: CutMode };

export type ScheduledFault = Fault & { at: number; forMs: number };

/**
 * The in-suite schedule (~37 s): each fault once, one after the other. `edges` are the gateway
 * ids, `proxied` the one behind the link-cutting proxy.
 */
export function shortSchedule(edges: readonly string[], proxied: string): ScheduledFault[] {
  const killed = edges.find((g) => g !== proxied) as string;
  return [
    { at: 2_000, forMs: 3_000, kind: 'kill-edge', gateway: killed },
    { at: 8_000, forMs: 6_000, kind: 'cut-uplink', gateway: proxied, mode: 'refuse' },
    { at: 16_000, forMs: 3_000, kind: 'kill-hub' },
    { at: 23_000, forMs: 5_000, kind: 'stop-influx' },
    { at: 31_000, forMs: 4_000, kind: 'hang-influx' },
  ];
}

export const SHORT_SCHEDULE_MS = 37_000;

const CYCLE_MS = 60_000;

/**
 * The long schedule: 60 s cycles until `durationMs`. Every cycle kills an edge (each gateway in
 * turn, the proxied one included), cuts the proxied uplink (refusing, or blackholing every other
 * cycle), kills the hub, stops InfluxDB and hangs it (SIGSTOP). Odd cycles also overlap faults: the
 * proxied edge is killed while its uplink is cut, and the hub is killed while InfluxDB is down
 * (it starts with its store unreachable).
 */
export function longSchedule(edges: readonly string[], proxied: string, durationMs: number): ScheduledFault[] {
  const out: ScheduledFault[] = [];
  for (let c = 0; (c + 1) * CYCLE_MS <= durationMs + 5_000; c++) {
    const t = c * CYCLE_MS;
    const odd = c % 2 === 1;
    out.push({
      at: t + 2_000,
      forMs: 3_000 + (c % 3) * 1_000,
      kind: 'kill-edge',
      gateway: edges[c % edges.length] as string,
    });
    out.push({ at: t + 8_000, forMs: 8_000, kind: 'cut-uplink', gateway: proxied, mode: odd ? 'blackhole' : 'refuse' });
    if (odd) out.push({ at: t + 11_000, forMs: 2_000, kind: 'kill-edge', gateway: proxied });
    out.push({ at: t + 20_000, forMs: 3_000, kind: 'kill-hub' });
    out.push({ at: t + 28_000, forMs: 8_000, kind: 'stop-influx' });
    if (odd) out.push({ at: t + 31_000, forMs: 2_000, kind: 'kill-hub' });
    out.push({ at: t + 42_000, forMs: 6_000, kind: 'hang-influx' });
  }
  return out;
}

/** Chaos phase length of a schedule: the last recovery plus a few seconds of calm. */
export function scheduleLength(faults: readonly ScheduledFault[]): number {
  return Math.max(0, ...faults.map((f) => f.at + f.forMs)) + 2_000;
}
