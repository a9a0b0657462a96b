/**
 * `citygrid sim flood` and `citygrid sim snow`: the seeded storm drills of issue 10 (drill-run.ts
 * runs them), printing the drill report as text or, with --json, as one JSON object. Registered
 * in sim.ts.
 */
import { parseArgs } from 'node:util';
import { formatReport } from '../../simulators/drills/report.js';
import type { DrillKind } from '../../simulators/drills/scenario.js';
import type { DrillOptions } from './drill-run.js';

const usage = (kind: DrillKind) => `usage: citygrid sim ${kind} [--seed N] [--speedup X | --duration S] [--districts N]
                 [--interval MS] [--incident-interval MS] [--json] [--keep DIR]
  Runs its own hub (child process), one edge per district and the structure simulators, plays a
  ${kind === 'flood' ? 'rainstorm (rain -> water at the underpasses with a lag, closures)' : 'cold wave (cooling -> wet road -> ice, then snow)'}
  with one gateway losing its uplink in the middle${kind === 'flood' ? ' and a hotline report of a flooded underpass' : ''},
  confirms the incident the hub proposes, closes it at the end, and prints the drill report.
  --seed              storm variant: intensities, the gateway cut, the underpass reported (default 1)
  --speedup           sim time runs this many times faster (default 60)
  --duration          real seconds the whole scenario takes (sets the speedup instead)
  --districts         the example city scaled to N districts (default 2: as shipped)
  --interval          normal sample interval of every logger, ms (default 2500: the example's 10 s at 4x)
  --incident-interval sample interval an open incident asks for, ms (default interval / 5)
  --json              the report as JSON on stdout (progress stays on stderr)
  --keep DIR          keep configs, logs and data in DIR`;

function num(name: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`--${name} must be a ${integer ? 'whole ' : ''}number above 0, got "${text}"`);
  return n;
}

export async function runDrillCommand(kind: DrillKind, args: string[]): Promise<number> {
  let opts: DrillOptions;
  let json = false;
  try {
    const { values } = parseArgs({
      args,
      options: {
        seed: { type: 'string' },
        speedup: { type: 'string' },
        duration: { type: 'string' },
        districts: { type: 'string' },
        interval: { type: 'string' },
        'incident-interval': { type: 'string' },
        json: { type: 'boolean' },
        keep: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      console.log(usage(kind));
      return 0;
    }
    if (values.speedup !== undefined && values.duration !== undefined)
      throw new Error('give --speedup or --duration, not both');
    json = values.json ?? false;
    opts = {
      kind,
      seed: num('seed', values.seed, true),
      speedup: num('speedup', values.speedup),
      durationS: num('duration', values.duration),
      districts: num('districts', values.districts, true),
      intervalMs: num('interval', values.interval),
      incidentIntervalMs: num('incident-interval', values['incident-interval']),
      keepDir: values.keep,
      progress: (line) => console.error(line),
    };
  } catch (err) {
    console.error(`citygrid sim ${kind}: ${err instanceof Error ? err.message : String(err)}\n\n${usage(kind)}`);
    return 2;
  }
  const { runDrill } = await import('./drill-run.js');
  try {
    const report = await runDrill(opts);
    console.log(json ? JSON.stringify(report) : formatReport(report));
    return report.readings.lost === 0 ? 0 : 1;
  } catch (err) {
    console.error(`citygrid sim ${kind}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
