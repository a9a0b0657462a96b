/**
 * `cmd/sample-interval`: the one hub command every periodic driver takes (emergency modes read
 * water levels every few seconds instead of every few minutes). The payload's `interval` is a
 * duration ("5s", or ms) or "default" (back to the configured rate).
 */
import type { DeviceCommand } from './driver.js';
import { CitygridError } from './errors.js';
import { durationOption } from './options.js';

const intervalArg = durationOption();

/** The interval a `sample-interval` command asks for, in ms, or 'default'. Throws BAD_COMMAND / COMMAND_UNSUPPORTED. */
export function requestedSampleInterval(cmd: DeviceCommand, minMs = 10): number | 'default' {
  if (cmd.name !== 'sample-interval') throw new CitygridError('COMMAND_UNSUPPORTED', `no "${cmd.name}" command`);
  const raw = cmd.args.interval;
  if (raw === 'default') return 'default';
  const parsed = intervalArg.safeParse(raw);
  if (!parsed.success || parsed.data < minMs)
    throw new CitygridError('BAD_COMMAND', `"interval" must be a duration of at least ${minMs}ms ("5s") or "default"`);
  return parsed.data;
}
