/**
 * The driver registry the edge agent looks drivers up in. Built from an explicit list (no
 * filesystem scanning, no import side effects) and validated once (ZHC validateDefinition).
 */
import type {
  DriverDefinition,
  NetworkDriverDefinition,
  PolledDriverDefinition,
  SessionDriverDefinition,
} from './sdk/driver.js';
import { CitygridError } from './sdk/errors.js';
import { isKnownField } from './sdk/fields.js';

/** A gateway config names a driver id the registry does not have. */
export class UnknownDriverError extends CitygridError {
  readonly driver: string;
  readonly known: readonly string[];
  constructor(driver: string, known: readonly string[]) {
    super('UNKNOWN_DRIVER', `unknown driver "${driver}"; known drivers: ${known.join(', ') || '(none)'}`);
    this.driver = driver;
    this.known = known;
  }
}

/** A driver definition that breaks the contract (duplicate id, undeclared field...). A programming error. */
export class InvalidDriverDefinitionError extends CitygridError {
  constructor(message: string) {
    super('DRIVER_DEFINITION_INVALID', message);
  }
}

/** A definition of any options type; the registry only routes by id, the options schema checks the rest. */
// biome-ignore lint/suspicious/noExplicitAny: Options is contravariant in create(); unknown would reject every concrete driver
type AnyOptions = any;
export type AnyDriverDefinition =
  | DriverDefinition<AnyOptions>
  | PolledDriverDefinition<AnyOptions>
  | NetworkDriverDefinition<AnyOptions>
  | SessionDriverDefinition<AnyOptions>;

/** Where a driver's devices are placed in the gateway config. */
export function placementOf(def: AnyDriverDefinition): 'transport' | 'bus' | 'server' | 'none' {
  if (def.access === 'polled') return 'bus';
  if (def.access === 'session') return 'server';
  return def.access === 'network' ? 'none' : 'transport';
}

/** True for a driver whose devices sit on a shared bus (`bus:` in the gateway config). */
// biome-ignore lint/suspicious/noExplicitAny: same as AnyDriverDefinition
export function isPolled(def: AnyDriverDefinition): def is PolledDriverDefinition<any> {
  return def.access === 'polled';
}

export interface DriverRegistry {
  /** Registered ids, in list order. */
  readonly ids: readonly string[];
  readonly list: readonly AnyDriverDefinition[];
  has(id: string): boolean;
  /** Throws UnknownDriverError. */
  get(id: string): AnyDriverDefinition;
}

const DRIVER_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export function createRegistry(list: readonly AnyDriverDefinition[]): DriverRegistry {
  const byId = new Map<string, AnyDriverDefinition>();
  for (const def of list) {
    if (!DRIVER_ID.test(def.id)) throw new InvalidDriverDefinitionError(`driver id "${def.id}" is not kebab-case`);
    if (byId.has(def.id)) throw new InvalidDriverDefinitionError(`driver id "${def.id}" is registered twice`);
    if (def.kinds.length === 0) throw new InvalidDriverDefinitionError(`driver "${def.id}" serves no device kind`);
    if (def.access === 'polled' || def.access === 'session') {
      if (!def.protocol) throw new InvalidDriverDefinitionError(`${def.access} driver "${def.id}" names no protocol`);
    } else if (def.access !== 'network' && def.transports.length === 0)
      throw new InvalidDriverDefinitionError(`driver "${def.id}" declares no transport`);
    const seen = new Set<string>();
    for (const field of def.fields) {
      if (!isKnownField(field))
        throw new InvalidDriverDefinitionError(`driver "${def.id}" declares unknown field "${field}" (not in FIELDS)`);
      if (seen.has(field)) throw new InvalidDriverDefinitionError(`driver "${def.id}" declares field "${field}" twice`);
      seen.add(field);
    }
    byId.set(def.id, def);
  }
  const ids = [...byId.keys()];
  return {
    ids,
    list: [...list],
    has: (id) => byId.has(id),
    get(id) {
      const def = byId.get(id);
      if (!def) throw new UnknownDriverError(id, ids);
      return def;
    },
  };
}
