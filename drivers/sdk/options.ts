/**
 * Option types driver schemas share. Driver options are validated by the driver (the config
 * loader only knows they are an object), so they parse their own durations.
 */
import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * A duration option: "500ms", "1s", "5m", "2h" (or a number of ms, so options already parsed by the
 * config loader parse again to the same value).
 */
export function durationOption() {
  return z.union([
    z
      .string()
      .regex(DURATION, 'a duration such as "500ms", "1s", "5m"')
      .transform((s) => {
        const m = DURATION.exec(s) as RegExpExecArray;
        return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
      }),
    z.number().int().min(0),
  ]);
}
