/**
 * Runs `citygrid sim flood|snow --json …` as a real process to its end and returns the drill report
 * it prints (the line starting `{"drill"`); the drill's own output goes to `<dir>/drill.log`.
 */
import path from 'node:path';
import type { DrillReport } from '../../simulators/drills/report.js';
import { type CliProcess, startCli } from './cli-process.js';

export async function runDrill(
  kind: 'flood' | 'snow',
  args: string[],
  dir: string,
): Promise<{ drill: CliProcess; report: DrillReport }> {
  const drill = startCli(['sim', kind, '--json', ...args], { logFile: path.join(dir, 'drill.log') });
  const code = await drill.exited;
  const line = drill
    .output()
    .split('\n')
    .find((l) => l.startsWith('{"drill"'));
  if (!line) throw new Error(`no report from the drill (exit ${code}):\n${drill.output().slice(-3000)}`);
  return { drill, report: JSON.parse(line) as DrillReport };
}
