/**
 * `npm run chaos [-- --duration 300] [--rate 5] [--keep]`: the long chaos run (schedule.ts,
 * longSchedule). Prints one JSON line per device and a summary line on stdout, progress on
 * stderr; exits 1 when anything was lost, duplicated or missing outside a dead window.
 */
import { parseArgs } from 'node:util';
import { runChaos } from './run-chaos.js';
import { longSchedule } from './schedule.js';

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '300' },
      rate: { type: 'string', default: '5' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const durationMs = Number(values.duration) * 1000;
  const rateHz = Number(values.rate);
  if (!(durationMs >= 60_000) || !(rateHz > 0 && rateHz <= 20)) {
    console.error('usage: npm run chaos -- [--duration <s, >= 60>] [--rate <Hz, 1..20>] [--keep]');
    return 2;
  }
  const { devices, summary } = await runChaos({
    schedule: (edges, proxied) => longSchedule(edges, proxied, durationMs),
    rateHz,
    keep: values.keep ?? false,
    drainTimeoutMs: 300_000,
    progress: (line) => console.error(line),
  });
  for (const d of devices) console.log(JSON.stringify(d));
  console.log(JSON.stringify(summary));
  return summary.ok ? 0 : 1;
}
