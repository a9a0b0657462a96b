/**
 * The driver library's front door: the explicit list of drivers, the registry built from it,
 * the options validator the config loader takes, and the transport factory.
 */
import { nmeaGps } from './nmea-gps/definition.js';
import { type AnyDriverDefinition, createRegistry, type DriverRegistry } from './registry.js';
import { describeZodIssue } from './sdk/zod-issues.js';

export type { NmeaGpsOptions } from './nmea-gps/definition.js';
export { nmeaGps } from './nmea-gps/definition.js';
export {
  type AnyDriverDefinition,
  createRegistry,
  type DriverRegistry,
  InvalidDriverDefinitionError,
  UnknownDriverError,
} from './registry.js';
export { createTransport, type TransportConfig } from './transports/index.js';

/** Every driver citygrid ships. Add new drivers here (a test checks every drivers/<id>/ folder is listed). */
export const drivers: readonly AnyDriverDefinition[] = [nmeaGps];

export const registry: DriverRegistry = createRegistry(drivers);

/** One problem with a device's `driver`/`options`; the path is relative to the device entry. */
export interface DriverOptionsIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Validates a device's options against its driver's schema. Same shape as config/load.ts's
 * `DeviceOptionsValidator` (drivers/ must not import config/). Issue paths are relative to the
 * device: `['driver']` for an unknown driver, `['options', ...]` for an option.
 */
export function validateDriverOptions(
  driver: string,
  options: unknown,
  reg: DriverRegistry = registry,
): { ok: true; options: unknown } | { ok: false; issues: DriverOptionsIssue[] } {
  if (!reg.has(driver))
    return {
      ok: false,
      issues: [{ path: ['driver'], message: `unknown driver "${driver}"; known drivers: ${reg.ids.join(', ')}` }],
    };
  const result = reg.get(driver).optionsSchema.safeParse(options ?? {}, { reportInput: true });
  if (result.success) return { ok: true, options: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({
      path: ['options', ...i.path.filter((p): p is string | number => typeof p !== 'symbol')],
      message: describeZodIssue(i),
    })),
  };
}

export const driverOptionsValidator = (driver: string, options: unknown) => validateDriverOptions(driver, options);
