/**
 * Which trucks the fleet simulator drives and under which terminal phone: the city config's
 * vehicles (phones from a gateway config's jt808-terminal devices, one source of truth, or the
 * documented rule), or N synthetic trucks on the city's roads for the benchmark.
 *
 * Phone rule (README): vehicle i (1-based, city config order) is `0138` + i in 8 digits
 * (013800000001, ...); synthetic truck i is `SIM-<i, 5 digits>` with `0139` + i in 8 digits.
 */
import type { CityConfig } from '../../config/schema/city.js';
import type { Road, VehicleRole } from '../../config/schema/fleet.js';
import type { LonLat } from '../gps/route.js';
import type { RegisterInfo } from './jt808-bodies.js';
import { type Leg, planRoute } from './route-plan.js';

export interface SimVehicle {
  id: string;
  phone: string;
  role: VehicleRole;
  legs: Leg[];
  register: RegisterInfo;
}

export const cityPhone = (index: number) => `0138${String(index).padStart(8, '0')}`;
export const syntheticPhone = (index: number) => `0139${String(index).padStart(8, '0')}`;
export const syntheticId = (index: number) => `SIM-${String(index).padStart(5, '0')}`;

/** Phones compare without leading zeros (2013 pads to 12 digits, 2019 to 20). */
export const samePhone = (a: string, b: string) => a.replace(/^0+/, '') === b.replace(/^0+/, '');

function registerInfo(id: string, plate: string, adminCode: string | undefined): RegisterInfo {
  const code = adminCode ?? '330100';
  return {
    province: Number(code.slice(0, 2)),
    city: Number(code.slice(2, 6)),
    manufacturer: 'CGSIM',
    model: 'CG-SIM-808',
    terminalId: id.replace(/[^A-Za-z0-9]/g, '').slice(-7),
    plateColor: 2,
    plate,
  };
}

/** Where there is no signal: the city's tunnel assets. */
export function tunnelPoints(city: CityConfig): LonLat[] {
  return city.assets.flatMap((a) => (a.kind === 'tunnel' && a.location ? [a.location as LonLat] : []));
}

export interface CityFleetOptions {
  /** Vehicle id -> phone (from a gateway config). Vehicles without one are left out when given. */
  phones?: ReadonlyMap<string, string>;
  /** Only these vehicle ids. */
  only?: readonly string[];
  misbehave?: readonly string[];
}

export function cityFleet(city: CityConfig, opts: CityFleetOptions = {}): SimVehicle[] {
  const roads = new Map<string, Road>(city.roads.map((r) => [r.id, r]));
  const adminCode = (district: string) => city.districts.find((d) => d.id === district)?.adminCode;
  const out: SimVehicle[] = [];
  city.vehicles.forEach((v, i) => {
    if (opts.only && !opts.only.includes(v.id)) return;
    const phone = opts.phones ? opts.phones.get(v.id) : cityPhone(i + 1);
    if (!phone) return;
    out.push({
      id: v.id,
      phone,
      role: v.role,
      legs: planRoute(v, roads, { misbehave: opts.misbehave?.includes(v.id) }),
      register: registerInfo(v.id, v.plate, adminCode(v.district)),
    });
  });
  return out;
}

const SYNTHETIC_ROLES: VehicleRole[] = ['sweeper', 'washer', 'garbage', 'sweeper'];

/** N trucks on the city's roads: truck i works road i and road i+1 (mod the road count). */
export function syntheticFleet(
  city: CityConfig,
  count: number,
  opts: { misbehave?: readonly string[] } = {},
): SimVehicle[] {
  if (city.roads.length === 0) throw new Error('the city config has no roads for synthetic trucks');
  const roads = new Map<string, Road>(city.roads.map((r) => [r.id, r]));
  return Array.from({ length: count }, (_, k) => {
    const i = k + 1;
    const id = syntheticId(i);
    const a = city.roads[k % city.roads.length] as Road;
    const b = city.roads[(k + 1) % city.roads.length] as Road;
    const vehicle = {
      id,
      assignments: [{ roads: a.id === b.id ? [a.id] : [a.id, b.id], by: '12:00', minCoverage: 0.9 }],
      allowedStops: [],
    };
    return {
      id,
      phone: syntheticPhone(i),
      role: SYNTHETIC_ROLES[k % SYNTHETIC_ROLES.length] as VehicleRole,
      legs: planRoute(vehicle, roads, { misbehave: opts.misbehave?.includes(id) }),
      register: registerInfo(id, `浙A${String(i).padStart(5, '0')}`, undefined),
    };
  });
}

/** Gateway devices of the jt808-terminal driver: vehicle id -> phone. */
export function phonesFromGateway(gateway: {
  devices: { id: string; driver: string; options?: Record<string, unknown> }[];
}): Map<string, string> {
  const phones = new Map<string, string>();
  for (const d of gateway.devices) {
    if (d.driver !== 'jt808-terminal') continue;
    const phone = d.options?.phone;
    if (typeof phone === 'string' || typeof phone === 'number') phones.set(d.id, String(phone));
  }
  return phones;
}
