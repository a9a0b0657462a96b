/**
 * What a console user may see (contracts §2): the city supervisor everything; a district
 * commander what is in their district (cases, assets, devices, gateways, readings, events); a
 * unit handler the cases dispatched to their unit (and what belongs to those cases). Routes and
 * the event stream ask here, so the rule is written once.
 */
import type { CaseRecord } from '../cases/model.js';
import type { ConsoleUser } from './users.js';

export const seesAll = (u: ConsoleUser): boolean => u.role === 'city_supervisor';

/** Things placed in a district (readings, devices, gateways, assets): the supervisor and that district's commander. */
export function seesDistrict(u: ConsoleUser, district: string | undefined): boolean {
  if (seesAll(u)) return true;
  return u.role === 'district_commander' && district !== undefined && district === u.district;
}

/**
 * A case: the supervisor all; a commander those of their district; a unit handler those
 * dispatched to their unit (the unit a case is only proposed to before dispatch does not see it).
 */
export function seesCase(u: ConsoleUser, c: Pick<CaseRecord, 'district' | 'unit' | 'history'>): boolean {
  if (seesAll(u)) return true;
  if (u.role === 'district_commander') return c.district !== undefined && c.district === u.district;
  return c.unit !== undefined && c.unit === u.unit && c.history.some((h) => h.action === 'dispatch');
}

/** The district a commander is held to; undefined for the supervisor (no restriction). */
export const districtOfScope = (u: ConsoleUser): string | undefined =>
  u.role === 'district_commander' ? u.district : undefined;
