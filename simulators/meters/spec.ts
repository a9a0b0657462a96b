/**
 * Meter lists for the bus: parsed from `--meters "cjt188:00000000000001,modbus:1"`, or generated
 * (`--count N --protocol cjt188|modbus|mix`), with modes applied by address.
 */
import type { MeterProtocol, MeterSpec } from './meter.js';

export function parseMeterList(text: string): MeterSpec[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const m = /^(cjt188|modbus):(\d+)$/.exec(item);
      if (!m) throw new Error(`meter "${item}" is not "cjt188:<up to 14 digits>" or "modbus:<unit id>"`);
      return normaliseSpec({ protocol: m[1] as MeterProtocol, address: m[2] as string });
    });
}

function normaliseSpec(spec: MeterSpec): MeterSpec {
  if (spec.protocol === 'cjt188') {
    if (spec.address.length > 14) throw new Error(`CJ/T 188 address "${spec.address}" has more than 14 digits`);
    return { ...spec, address: spec.address.padStart(14, '0') };
  }
  const unit = Number(spec.address);
  if (!Number.isInteger(unit) || unit < 1 || unit > 247)
    throw new Error(`Modbus unit id must be 1..247, got "${spec.address}"`);
  return { ...spec, address: String(unit) };
}

/** `count` meters numbered from 1: CJ/T 188 addresses 00000000000001…, Modbus units 1…; `mix` alternates. */
export function generateMeters(count: number, protocol: MeterProtocol | 'mix'): MeterSpec[] {
  if (!Number.isInteger(count) || count < 1 || count > 247) throw new Error('--count must be 1..247');
  return Array.from({ length: count }, (_, i) => {
    const p: MeterProtocol = protocol === 'mix' ? (i % 2 === 0 ? 'cjt188' : 'modbus') : protocol;
    return normaliseSpec({ protocol: p, address: String(i + 1) });
  });
}

export type MeterMode = 'leak' | 'silent' | 'reverse' | 'deadBattery';

/**
 * Applies a mode to the meters `selector` names: "cjt188:12", "modbus:3", or a bare number that
 * matches a meter of either protocol with that address. Throws when nothing matches.
 */
export function applyMode(meters: MeterSpec[], selector: string, mode: MeterMode, leakM3h = 0.02): void {
  const m = /^(?:(cjt188|modbus):)?(\d+)$/.exec(selector.trim());
  if (!m) throw new Error(`meter selector "${selector}" is not [cjt188:|modbus:]<address>`);
  const digits = m[2] as string;
  let hits = 0;
  for (const spec of meters) {
    if (m[1] && spec.protocol !== m[1]) continue;
    const same =
      spec.protocol === 'cjt188'
        ? digits.length <= 14 && spec.address === digits.padStart(14, '0')
        : spec.address === String(Number(digits));
    if (!same) continue;
    hits++;
    if (mode === 'leak') spec.leakM3h = leakM3h;
    else if (mode === 'silent') spec.silent = true;
    else if (mode === 'reverse') spec.reverse = true;
    else spec.deadBattery = true;
  }
  if (hits === 0) throw new Error(`no meter "${selector}" on the bus for the ${mode} mode`);
}
