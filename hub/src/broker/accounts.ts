/**
 * MQTT accounts of the embedded broker, built from the hub config (credentials) and the city
 * config (which district each gateway serves, hence its topic prefix).
 */
import type { CityConfig } from '../../../config/schema/city.js';
import type { HubConfig } from '../../../config/schema/hub.js';
import type { Principal } from './acl.js';
import { plainPasswordMatches, verifyPasswordHash } from './passwords.js';

export interface Account {
  principal: Principal;
  password?: string;
  passwordHash?: string;
}

/** Accounts by username. A gateway account whose gateway is not in the city is left out (the config loader already refuses it). */
export type AccountBook = ReadonlyMap<string, Account>;

export function buildAccountBook(accounts: HubConfig['accounts'], city: Pick<CityConfig, 'gateways'>): AccountBook {
  const districtOf = new Map(city.gateways.map((g) => [g.id, g.district]));
  const book = new Map<string, Account>();
  for (const a of accounts.gateways) {
    const district = districtOf.get(a.id);
    if (district === undefined) continue;
    book.set(a.id, {
      principal: { role: 'gateway', id: a.id, district },
      password: a.password,
      passwordHash: a.passwordHash,
    });
  }
  for (const r of accounts.readers) {
    book.set(r.username, {
      principal: { role: 'reader', id: r.username },
      password: r.password,
      passwordHash: r.passwordHash,
    });
  }
  return book;
}

export type AuthFailureReason = 'no-credentials' | 'unknown-user' | 'bad-password';

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: AuthFailureReason };

/** Checks one CONNECT's credentials against the book. */
export async function authenticateAccount(
  book: AccountBook,
  username: string | undefined,
  password: Buffer | undefined,
): Promise<AuthResult> {
  if (!username || !password) return { ok: false, reason: 'no-credentials' };
  const account = book.get(username);
  if (!account) return { ok: false, reason: 'unknown-user' };
  const matches = account.passwordHash
    ? await verifyPasswordHash(password, account.passwordHash)
    : account.password !== undefined && plainPasswordMatches(password, account.password);
  return matches ? { ok: true, principal: account.principal } : { ok: false, reason: 'bad-password' };
}
