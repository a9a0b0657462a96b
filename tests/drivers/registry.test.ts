import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { DeviceOptionsValidator } from '../../config/load.js';
import { deviceConfigSchema } from '../../config/schema/gateway.js';
import { driverOptionsValidator, drivers, placementOf, registry } from '../../drivers/index.js';
import { nmeaGps } from '../../drivers/nmea-gps/definition.js';
import { createRegistry, InvalidDriverDefinitionError, UnknownDriverError } from '../../drivers/registry.js';
import type { FieldName } from '../../drivers/sdk/fields.js';

const DRIVERS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drivers');
const NOT_DRIVERS = new Set(['sdk', 'transports']);

describe('driver registry', () => {
  it('lists every drivers/<id>/ folder that holds a definition', () => {
    // a folder with only a codec (a protocol library such as cjt188 or modbus) is not a driver yet
    const folders = readdirSync(DRIVERS_DIR).filter(
      (f) =>
        statSync(path.join(DRIVERS_DIR, f)).isDirectory() &&
        !NOT_DRIVERS.has(f) &&
        existsSync(path.join(DRIVERS_DIR, f, 'definition.ts')),
    );
    expect(folders.length).toBeGreaterThan(0);
    expect([...registry.ids].sort()).toEqual(folders.sort());
  });

  it('has options schemas that reject unknown keys', () => {
    for (const def of drivers) expect(def.optionsSchema.safeParse({ noSuchOption: 1 }).success, def.id).toBe(false);
  });

  it('ships a sample.yaml per driver that validates as a device entry', () => {
    for (const def of drivers) {
      const sample = parseYaml(readFileSync(path.join(DRIVERS_DIR, def.id, 'sample.yaml'), 'utf8'));
      const device = deviceConfigSchema.parse(sample);
      expect(device.driver).toBe(def.id);
      expect(def.kinds).toContain(device.kind);
      const placement =
        device.bus !== undefined
          ? 'bus'
          : device.transport !== undefined
            ? 'transport'
            : device.server !== undefined
              ? 'server'
              : 'none';
      expect(placement, `${def.id} sample placement`).toBe(placementOf(def));
      if (def.access === undefined || def.access === 'stream') expect(def.transports).toContain(device.transport?.type);
      expect(driverOptionsValidator(device.driver, device.options, placement)).toMatchObject({ ok: true });
    }
  });

  it('throws a typed error for an unknown driver', () => {
    expect(() => registry.get('modbus-nope')).toThrow(UnknownDriverError);
    expect(registry.get('nmea-gps')).toBe(nmeaGps);
  });

  it('refuses duplicate ids and fields missing from FIELDS', () => {
    expect(() => createRegistry([nmeaGps, nmeaGps])).toThrow(InvalidDriverDefinitionError);
    const bogus = { ...nmeaGps, id: 'bogus', fields: ['lat', 'warp_factor'] as FieldName[] };
    expect(() => createRegistry([bogus])).toThrow(/warp_factor/);
    expect(() => createRegistry([{ ...nmeaGps, id: 'Not_Kebab' }])).toThrow(/kebab/);
  });
});

describe('driverOptionsValidator', () => {
  it('has the shape config/load.ts expects', () => {
    expectTypeOf(driverOptionsValidator).toExtend<DeviceOptionsValidator>();
  });

  it('returns parsed options with defaults', () => {
    expect(driverOptionsValidator('nmea-gps', { minInterval: '2s' })).toEqual({
      ok: true,
      options: { minInterval: 2000, maxHdop: 5, minSatellites: 4, allowDeadReckoning: false, offlineAfter: 10_000 },
    });
  });

  it('names an unknown driver at path driver, listing the known ids', () => {
    const r = driverOptionsValidator('nmea-gsp', {});
    expect(r).toEqual({ ok: false, issues: [{ path: ['driver'], message: expect.stringContaining('nmea-gps') }] });
  });

  it('puts option problems under options.<key>', () => {
    const r = driverOptionsValidator('nmea-gps', { maxHdop: -1, colour: 'red' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual(expect.arrayContaining([['options', 'maxHdop'], ['options']]));
  });
});
