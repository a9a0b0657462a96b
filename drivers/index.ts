/**
 * The driver library's front door: the explicit list of drivers, the registry built from it,
 * the options validator the config loader takes, and the transport factory.
 */
import { cjt188WaterMeter } from './cjt188-water-meter/definition.js';
import { jt808Terminal } from './jt808-terminal/definition.js';
import { modbusLogger } from './modbus-logger/definition.js';
import { modbusTcpLogger } from './modbus-tcp-logger/definition.js';
import { modbusWaterMeter } from './modbus-water-meter/definition.js';
import { nmeaGps } from './nmea-gps/definition.js';
import { onvifCamera } from './onvif-camera/definition.js';
import { type AnyDriverDefinition, createRegistry, type DriverRegistry, placementOf } from './registry.js';
import { describeZodIssue } from './sdk/zod-issues.js';

export type { NmeaGpsOptions } from './nmea-gps/definition.js';
export { nmeaGps } from './nmea-gps/definition.js';
export {
  type AnyDriverDefinition,
  createRegistry,
  type DriverRegistry,
  InvalidDriverDefinitionError,
  isPolled,
  placementOf,
  UnknownDriverError,
} from './registry.js';
export { createTransport, type TransportConfig } from './transports/index.js';

/** Every driver citygrid ships. Add new drivers here (a test checks every drivers/<id>/ folder is listed). */
export const drivers: readonly AnyDriverDefinition[] = [
  nmeaGps,
  cjt188WaterMeter,
  modbusWaterMeter,
  modbusLogger,
  modbusTcpLogger,
  onvifCamera,
  jt808Terminal,
];

export const registry: DriverRegistry = createRegistry(drivers);

/** One problem with a device's `driver`/`options`; the path is relative to the device entry. */
export interface DriverOptionsIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Where the config puts a device: on a line of its own (`transport:`), on a shared bus (`bus:`),
 * or neither (a network device whose options say where it is).
 */
export type DevicePlacement = 'transport' | 'bus' | 'server' | 'none';

const PLACEMENT_HINT: Record<DevicePlacement, string> = {
  transport: 'reads a line of its own: give "transport"',
  bus: 'polls devices on a shared bus: give "bus: <id of an entry in buses>"',
  server: 'serves terminals that connect to the gateway: give "server: <id of an entry in servers>", no "transport"',
  none: 'reaches the device over the network by the address in its options: give neither "transport" nor "bus" (nor "server")',
};

/**
 * Validates a device's options against its driver's schema, and its placement against the
 * driver's access (a polled driver needs `bus:`, a stream driver `transport:`). Same shape as
 * config/load.ts's `DeviceOptionsValidator` (drivers/ must not import config/). Issue paths are
 * relative to the device: `['driver']` for an unknown driver, `['options', ...]` for an option.
 */
export function validateDriverOptions(
  driver: string,
  options: unknown,
  reg: DriverRegistry = registry,
  placement?: DevicePlacement,
): { ok: true; options: unknown } | { ok: false; issues: DriverOptionsIssue[] } {
  if (!reg.has(driver))
    return {
      ok: false,
      issues: [{ path: ['driver'], message: `unknown driver "${driver}"; known drivers: ${reg.ids.join(', ')}` }],
    };
  const def = reg.get(driver);
  const wanted = placementOf(def);
  if (placement && placement !== wanted)
    return {
      ok: false,
      issues: [
        { path: placement === 'none' ? [] : [placement], message: `driver "${driver}" ${PLACEMENT_HINT[wanted]}` },
      ],
    };
  const result = def.optionsSchema.safeParse(options ?? {}, { reportInput: true });
  if (result.success) return { ok: true, options: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({
      path: ['options', ...i.path.filter((p): p is string | number => typeof p !== 'symbol')],
      message: describeZodIssue(i),
    })),
  };
}

export const driverOptionsValidator = (driver: string, options: unknown, placement?: DevicePlacement) =>
  validateDriverOptions(driver, options, registry, placement);
