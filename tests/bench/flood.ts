/**
 * `npm run bench -- flood [--districts 20] [--rate 4] [--duration 180] [--seed 1]`
 *
 * The full flood drill (citygrid sim flood) across the example city scaled to --districts
 * districts (one gateway each: a bridge, a tunnel, two underpasses and a road-weather logger), every
 * logger sampled --rate times as often as the example gateways ask (10 s -> 2.5 s at 4x), and the
 * underpass gauges five times faster again while a flood incident is open. The hub runs as its own
 * process (embedded broker and store, case core, incidents); the edges and simulators share this
 * one. Reported as one JSON line: readings/s stored by the hub over the drill, readings taken vs
 * stored (lost must be 0), threshold crossing -> case p50/p99 (from the gauges' own timestamps to
 * the case's reportedAt: includes the rule's minimum duration over the level, 1 min / speedup, and the
 * sample interval; the cut gateway's district waits for its link: also reported without it), reading that raised the case -> case p50/p99 (the hub's own part), cases and incidents, hub CPU (percent of one core, from /proc) and peak RSS.
 */
import { runDrill } from '../../bin/commands/drill-run.js';
import { log } from './lib/proc.js';

const opt = (args: string[], name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};

/** The example gateways sample their structure loggers every 10 s. */
const EXAMPLE_INTERVAL_MS = 10_000;

export async function main(args: string[]): Promise<number> {
  const districts = opt(args, 'districts', 20);
  const rate = opt(args, 'rate', 4);
  const durationS = opt(args, 'duration', 180);
  const seed = opt(args, 'seed', 1);
  const intervalMs = EXAMPLE_INTERVAL_MS / rate;
  log(`flood: ${districts} districts, loggers every ${intervalMs} ms, ${durationS} s`);
  const r = await runDrill({ kind: 'flood', districts, intervalMs, durationS, seed, progress: log });
  const line = {
    bench: 'flood',
    districts: r.districts,
    gateways: r.gateways,
    loggers: r.devices,
    intervalMs,
    incidentIntervalMs: Math.max(100, Math.round(intervalMs / 5)),
    speedup: Math.round(r.speedup),
    seconds: Math.round(r.realSeconds),
    readingsPerSecond: Math.round(r.readingsPerSecond * 10) / 10,
    readingsTaken: r.readings.producedAtEdges,
    readingsStored: r.readings.storedAtHub,
    readingsLost: r.readings.lost,
    cases: r.cases.length,
    incidents: r.incidents.items.length,
    closures: r.closures.items.filter((c) => c.action !== 'lifted').length,
    crossingToCase: r.latency,
    crossingToCaseUplinkUp: r.latencyUplinkUp,
    readingToCase: r.readingToCase,
    hubCpuPercentAvg: Math.round(r.hub.cpuPercentAvg * 10) / 10,
    hubCpuPercentPeak: Math.round(r.hub.cpuPercentPeak * 10) / 10,
    hubRssMbPeak: Math.round(r.hub.rssMbPeak),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  log(
    `flood: ${line.readingsPerSecond} readings/s, lost ${line.readingsLost}, p99 crossing -> case ${r.latency.p99Ms} ms, hub CPU ${line.hubCpuPercentAvg} % RSS ${line.hubRssMbPeak} MB`,
  );
  return line.readingsLost === 0 ? 0 : 1;
}
