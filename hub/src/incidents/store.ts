/**
 * Incidents and closure recommendations in `cases.db` (tables of migration 4 in
 * hub/src/cases/store.ts, which owns the schema version): the incident row holds the record without
 * its history; history rows are only ever inserted. A second connection to the same WAL database:
 * both are synchronous on the hub's one thread, so their transactions never overlap.
 */
import path from 'node:path';
import Database from 'libsql';
import { CitygridError } from '../../../drivers/sdk/errors.js';
import type { Closure } from './closures.js';
import { type Incident, type IncidentHistoryEntry, isLive } from './model.js';

/** Schema version that has the incident tables. */
const NEEDS_VERSION = 4;

export class IncidentStoreError extends CitygridError {
  constructor(message: string) {
    super('INCIDENT_STORE', message);
  }
}

export interface IncidentStore {
  /** Writes the incident; history entries not yet stored are appended. Durable on return. */
  save(incident: Incident): void;
  get(id: string): Incident | undefined;
  /** Proposed and open incidents, oldest first. */
  live(): Incident[];
  /** Every incident updated at or after `since`, plus all live ones, newest first. */
  recent(since: number, limit: number): Incident[];
  /** A new incident id `INC-<n>` from a durable counter. */
  nextId(): string;
  saveClosure(c: Closure): void;
  /** Closures in force, oldest first. */
  closuresInForce(): Closure[];
  /** Closures raised at or after `since`, newest first. */
  closures(since: number, limit: number): Closure[];
  close(): void;
}

export function openIncidentStore(dataDir: string): IncidentStore {
  const db = new Database(path.join(dataDir, 'cases.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const version = Number((db.pragma('user_version') as { user_version: number }[])[0]?.user_version ?? 0);
  if (version < NEEDS_VERSION) {
    db.close();
    throw new IncidentStoreError(
      `cases.db is at schema version ${version}; open the case store first (needs ${NEEDS_VERSION})`,
    );
  }
  const upsert = db.prepare(
    `INSERT INTO incidents (id, type, state, live, updated_at, record) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET state = excluded.state, live = excluded.live, updated_at = excluded.updated_at,
       record = excluded.record`,
  );
  const maxSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM incident_history WHERE incident_id = ?');
  const insertHistory = db.prepare(
    'INSERT INTO incident_history (incident_id, seq, at, action, entry) VALUES (?, ?, ?, ?, ?)',
  );
  const getOne = db.prepare('SELECT record FROM incidents WHERE id = ?');
  const getHistory = db.prepare('SELECT entry FROM incident_history WHERE incident_id = ? ORDER BY seq');
  const liveStmt = db.prepare('SELECT record FROM incidents WHERE live = 1 ORDER BY updated_at, id');
  const recentStmt = db.prepare(
    'SELECT record FROM incidents WHERE live = 1 OR updated_at >= ? ORDER BY updated_at DESC, id DESC LIMIT ?',
  );
  const bump = db.prepare(
    `INSERT INTO counters (name, value) VALUES ('incident', 1)
     ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
  );
  const upsertClosure = db.prepare(
    `INSERT INTO closures (id, asset, in_force, raised_at, record) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET in_force = excluded.in_force, record = excluded.record`,
  );
  const closuresInForce = db.prepare('SELECT record FROM closures WHERE in_force = 1 ORDER BY raised_at, id');
  const closuresSince = db.prepare(
    'SELECT record FROM closures WHERE in_force = 1 OR raised_at >= ? ORDER BY raised_at DESC, id DESC LIMIT ?',
  );

  const withHistory = (record: string): Incident => {
    const i = JSON.parse(record) as Incident;
    i.history = (getHistory.all(i.id) as { entry: string }[]).map((r) => JSON.parse(r.entry) as IncidentHistoryEntry);
    return i;
  };
  const saveTx = db.transaction((i: Incident) => {
    const { history, ...rest } = i;
    upsert.run(i.id, i.type, i.state, isLive(i.state) ? 1 : 0, i.updatedAt, JSON.stringify(rest));
    const stored = Number((maxSeq.get(i.id) as { n: number }).n);
    for (const h of history) if (h.seq > stored) insertHistory.run(i.id, h.seq, h.at, h.action, JSON.stringify(h));
  });
  const parseClosures = (rows: unknown[]) => (rows as { record: string }[]).map((r) => JSON.parse(r.record) as Closure);

  return {
    save: (i) => saveTx(i),
    get(id) {
      const row = getOne.get(id) as { record: string } | undefined;
      return row ? withHistory(row.record) : undefined;
    },
    live: () => (liveStmt.all() as { record: string }[]).map((r) => withHistory(r.record)),
    recent: (since, limit) => (recentStmt.all(since, limit) as { record: string }[]).map((r) => withHistory(r.record)),
    nextId() {
      const row = bump.get() as { value: number };
      return `INC-${String(Number(row.value)).padStart(6, '0')}`;
    },
    saveClosure(c) {
      upsertClosure.run(c.id, c.asset, c.inForce ? 1 : 0, c.raisedAt, JSON.stringify(c));
    },
    closuresInForce: () => parseClosures(closuresInForce.all()),
    closures: (since, limit) => parseClosures(closuresSince.all(since, limit)),
    close() {
      if (db.open) db.close();
    },
  };
}
