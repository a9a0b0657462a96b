/**
 * The console's users from hub.yaml `console.users`, and the password check. An unknown username
 * costs the same scrypt work as a known one (against a fixed dummy hash), so response time does
 * not tell which usernames exist.
 */
import type { ConsoleUserConfig } from '../../../config/schema/hub.js';
import { verifyPasswordHash } from '../broker/passwords.js';

/** A user as the API shows it (never the hash). */
export interface ConsoleUser {
  id: string;
  name: string;
  role: ConsoleUserConfig['role'];
  district?: string;
  unit?: string;
}

/** scrypt of a random password nobody knows: what an unknown username is checked against. */
const DUMMY_HASH =
  'scrypt$5f0d4b5d1c3e8a9f0b2c4d6e8f1a3b5c$0c5b7f2e4a6d8c1e3f5a7b9d2c4e6f8a1b3d5f7e9c2a4b6d8f1e3a5c7b9d2e4f';

export function publicUser(u: ConsoleUserConfig): ConsoleUser {
  return {
    id: u.id,
    name: u.name ?? u.id,
    role: u.role,
    ...(u.district !== undefined ? { district: u.district } : {}),
    ...(u.unit !== undefined ? { unit: u.unit } : {}),
  };
}

export class UserDirectory {
  private readonly byId: Map<string, ConsoleUserConfig>;

  constructor(users: readonly ConsoleUserConfig[]) {
    this.byId = new Map(users.map((u) => [u.id, u]));
  }

  /** The user when `password` is theirs; undefined otherwise (unknown user or wrong password, indistinguishably). */
  async check(username: string, password: string): Promise<ConsoleUser | undefined> {
    const u = this.byId.get(username);
    const ok = await verifyPasswordHash(password, u?.passwordHash ?? DUMMY_HASH);
    return ok && u ? publicUser(u) : undefined;
  }

  get size(): number {
    return this.byId.size;
  }
}
