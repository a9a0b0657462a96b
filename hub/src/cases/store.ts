/**
 * The case store: cases, their append-only history, the signals that raised or joined them, and
 * rule state, in an embedded SQLite database (libsql) in the hub data dir: `cases.db`, WAL,
 * `synchronous = FULL` so a returned save survives a kill -9. Schema changes are numbered
 * migrations tracked in `PRAGMA user_version`.
 *
 * A case row holds the record without its history (plus the columns lists filter on); history
 * rows are only ever inserted, never updated, so what was recorded stays as it was.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'libsql';
import { CitygridError } from '../../../drivers/sdk/errors.js';
import type { CaseSignal } from './correlation.js';
import { type CaseRecord, type CaseState, type HistoryEntry, isOpen } from './model.js';
import type { RuleStateEntry } from './rules.js';
import { activeStage } from './workflow.js';

/** Numbered migrations: index + 1 is the schema version after it runs. Append only. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE cases (
     id TEXT PRIMARY KEY,
     category TEXT NOT NULL,
     state TEXT NOT NULL,
     open INTEGER NOT NULL,
     urgency TEXT NOT NULL,
     source TEXT NOT NULL,
     district TEXT,
     grid TEXT,
     unit TEXT,
     asset TEXT,
     reported_at INTEGER NOT NULL,
     due_at INTEGER,
     updated_at INTEGER NOT NULL,
     record TEXT NOT NULL
   );
   CREATE INDEX cases_open_due ON cases (open, due_at);
   CREATE INDEX cases_reported ON cases (reported_at);
   CREATE TABLE case_history (
     case_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     at INTEGER NOT NULL,
     action TEXT NOT NULL,
     entry TEXT NOT NULL,
     PRIMARY KEY (case_id, seq)
   );
   CREATE TABLE case_signals (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     case_id TEXT NOT NULL,
     at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     signal TEXT NOT NULL
   );
   CREATE INDEX case_signals_case ON case_signals (case_id, id);
   CREATE TABLE rule_state (
     rule TEXT NOT NULL,
     key TEXT NOT NULL,
     state TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (rule, key)
   );
   CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`,
  // 2: evidence requested from an asset's cameras when a case opened (retried after a restart too).
  `CREATE TABLE case_captures (case_id TEXT PRIMARY KEY, request TEXT NOT NULL, updated_at INTEGER NOT NULL);`,
  // 3: webhook notifications not yet delivered (the outbox), and the rule profile switches (who, when, why).
  `CREATE TABLE webhook_outbox (
     id TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     event TEXT NOT NULL,
     case_id TEXT NOT NULL,
     body TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     next_at INTEGER NOT NULL,
     last_error TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX webhook_outbox_next ON webhook_outbox (next_at);
   CREATE TABLE profile_changes (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     profile TEXT NOT NULL,
     actor TEXT NOT NULL,
     note TEXT,
     at INTEGER NOT NULL
   );`,
  // 4: flood/snow incidents with their append-only history, and road-closure recommendations
  // (hub/src/incidents/store.ts reads and writes them).
  `CREATE TABLE incidents (
     id TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     state TEXT NOT NULL,
     live INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     record TEXT NOT NULL
   );
   CREATE INDEX incidents_live ON incidents (live, updated_at);
   CREATE TABLE incident_history (
     incident_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     at INTEGER NOT NULL,
     action TEXT NOT NULL,
     entry TEXT NOT NULL,
     PRIMARY KEY (incident_id, seq)
   );
   CREATE TABLE closures (
     id TEXT PRIMARY KEY,
     asset TEXT NOT NULL,
     in_force INTEGER NOT NULL,
     raised_at INTEGER NOT NULL,
     record TEXT NOT NULL
   );
   CREATE INDEX closures_force ON closures (in_force, raised_at);`,
];

/** A webhook notification waiting for a 2xx. `body` is the exact JSON signed and sent. */
export interface OutboxEntry {
  id: string;
  url: string;
  event: string;
  caseId: string;
  body: string;
  attempts: number;
  nextAt: number;
  lastError?: string;
}

/** A switch of the rule profile, as recorded. */
export interface ProfileChange {
  profile: string;
  actor: string;
  note?: string;
  at: number;
}

export class CaseStoreError extends CitygridError {
  constructor(message: string) {
    super('CASE_STORE', message);
  }
}

export interface CaseChanges {
  cases?: readonly CaseRecord[];
  signals?: readonly CaseSignal[];
  ruleState?: readonly RuleStateEntry[];
  /** Notifications of these changes, written in the same transaction. */
  outbox?: readonly OutboxEntry[];
}

export interface CaseFilter {
  state?: CaseState;
  open?: boolean;
  district?: string;
  unit?: string;
  category?: string;
  urgency?: string;
  /** Reported at or after (ms). */
  from?: number;
  /** Reported before (ms). */
  to?: number;
  limit?: number;
  offset?: number;
}

export interface CaseStore {
  /** Writes cases (new history entries appended), signals and rule state in one durable transaction. */
  save(changes: CaseChanges, now: number): void;
  get(id: string): CaseRecord | undefined;
  /** Every open case, for the correlator and the overdue clock after a restart. */
  openCases(): CaseRecord[];
  /** Cases matching the filter, newest first. */
  list(filter?: CaseFilter): CaseRecord[];
  /** Open cases whose running stage was due before `now` (suspended ones have no due time): the overdue clock's work list. */
  dueBefore(now: number): CaseRecord[];
  signals(caseId: string, opts?: { limit?: number; offset?: number }): CaseSignal[];
  signalCount(caseId: string): number;
  ruleState(): RuleStateEntry[];
  /** Deletes rule state rows (state no longer needed, e.g. fleet judging of past days). */
  deleteRuleState(rule: string, keys: readonly string[]): void;
  /** Records (replaces) the camera evidence request of a case, durably. */
  saveCapture(caseId: string, request: Record<string, unknown>, now: number): void;
  /** Every recorded evidence request, oldest update first. */
  captures(): { caseId: string; request: Record<string, unknown> }[];
  /** Pending notifications due at or before `now`, oldest first. */
  dueDeliveries(now: number, limit: number): OutboxEntry[];
  pendingDeliveries(): number;
  /** Earliest next attempt of a pending notification. */
  nextDeliveryAt(): number | undefined;
  deleteDelivery(id: string): void;
  /** Records a failed attempt and when to try again. */
  retryDelivery(id: string, attempts: number, nextAt: number, error: string): void;
  /** Records a profile switch. */
  saveProfile(change: ProfileChange): void;
  /** The last profile switch, if any was made. */
  profile(): ProfileChange | undefined;
  /** A new case id, unique across restarts: `<prefix>-<n>` with n from a durable counter. */
  nextId(prefix: string): string;
  /** Schema version (number of migrations applied). */
  readonly version: number;
  /** Idempotent. */
  close(): void;
}

const cols = (c: CaseRecord) => {
  const stage = activeStage(c);
  const due = stage ? c.deadlines[stage]?.dueAt : undefined;
  return [
    c.id,
    c.category,
    c.state,
    isOpen(c.state) ? 1 : 0,
    c.urgency,
    c.source,
    c.district ?? null,
    c.grid ?? null,
    c.unit ?? null,
    c.asset ?? null,
    c.reportedAt,
    c.state === 'suspended' ? null : (due ?? null),
  ];
};

export function openCaseStore(dataDir: string): CaseStore {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'cases.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // libsql ignores better-sqlite3's { simple: true }: read the row.
  const current = Number((db.pragma('user_version') as { user_version: number }[])[0]?.user_version ?? 0);
  if (current > MIGRATIONS.length) {
    db.close();
    throw new CaseStoreError(
      `cases.db has schema version ${current}, newer than this citygrid knows (${MIGRATIONS.length})`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }

  const upsertCase = db.prepare(
    `INSERT INTO cases (id, category, state, open, urgency, source, district, grid, unit, asset, reported_at, due_at, updated_at, record)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET category = excluded.category, state = excluded.state, open = excluded.open,
       urgency = excluded.urgency, source = excluded.source, district = excluded.district, grid = excluded.grid,
       unit = excluded.unit, asset = excluded.asset, due_at = excluded.due_at, updated_at = excluded.updated_at,
       record = excluded.record`,
  );
  const maxSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM case_history WHERE case_id = ?');
  const insertHistory = db.prepare('INSERT INTO case_history (case_id, seq, at, action, entry) VALUES (?, ?, ?, ?, ?)');
  const insertSignal = db.prepare('INSERT INTO case_signals (case_id, at, kind, signal) VALUES (?, ?, ?, ?)');
  const upsertRule = db.prepare(
    `INSERT INTO rule_state (rule, key, state, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (rule, key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
  );
  const getCase = db.prepare('SELECT record FROM cases WHERE id = ?');
  const getHistory = db.prepare('SELECT entry FROM case_history WHERE case_id = ? ORDER BY seq');
  const openStmt = db.prepare('SELECT record FROM cases WHERE open = 1 ORDER BY reported_at, id');
  const dueStmt = db.prepare('SELECT record FROM cases WHERE open = 1 AND due_at < ? ORDER BY due_at, id');
  const signalsStmt = db.prepare('SELECT signal FROM case_signals WHERE case_id = ? ORDER BY id LIMIT ? OFFSET ?');
  const signalCountStmt = db.prepare('SELECT COUNT(*) AS n FROM case_signals WHERE case_id = ?');
  const upsertCapture = db.prepare(
    `INSERT INTO case_captures (case_id, request, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (case_id) DO UPDATE SET request = excluded.request, updated_at = excluded.updated_at`,
  );
  const capturesStmt = db.prepare('SELECT case_id, request FROM case_captures ORDER BY updated_at, case_id');
  const ruleStmt = db.prepare('SELECT rule, key, state FROM rule_state ORDER BY rule, key');
  const deleteRule = db.prepare('DELETE FROM rule_state WHERE rule = ? AND key = ?');
  const deleteRules = db.transaction((rule: string, keys: readonly string[]) => {
    for (const k of keys) deleteRule.run(rule, k);
  });
  const insertOutbox = db.prepare(
    `INSERT INTO webhook_outbox (id, url, event, case_id, body, attempts, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const dueOutbox = db.prepare(
    'SELECT id, url, event, case_id, body, attempts, next_at, last_error FROM webhook_outbox WHERE next_at <= ? ORDER BY next_at, created_at, id LIMIT ?',
  );
  const countOutbox = db.prepare('SELECT COUNT(*) AS n, MIN(next_at) AS next FROM webhook_outbox');
  const deleteOutbox = db.prepare('DELETE FROM webhook_outbox WHERE id = ?');
  const retryOutbox = db.prepare('UPDATE webhook_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?');
  const insertProfile = db.prepare('INSERT INTO profile_changes (profile, actor, note, at) VALUES (?, ?, ?, ?)');
  const lastProfile = db.prepare('SELECT profile, actor, note, at FROM profile_changes ORDER BY id DESC LIMIT 1');
  const bump = db.prepare(
    `INSERT INTO counters (name, value) VALUES ('case', 1)
     ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
  );

  const withHistory = (record: string): CaseRecord => {
    const c = JSON.parse(record) as CaseRecord;
    c.history = (getHistory.all(c.id) as { entry: string }[]).map((r) => JSON.parse(r.entry) as HistoryEntry);
    return c;
  };

  const saveAll = db.transaction((changes: CaseChanges, now: number) => {
    for (const c of changes.cases ?? []) {
      const { history, ...rest } = c;
      upsertCase.run(...cols(c), now, JSON.stringify(rest));
      const stored = Number((maxSeq.get(c.id) as { n: number }).n);
      for (const h of history) {
        if (h.seq > stored) insertHistory.run(c.id, h.seq, h.at, h.action, JSON.stringify(h));
      }
    }
    for (const s of changes.signals ?? []) insertSignal.run(s.caseId, s.at, s.kind, JSON.stringify(s));
    for (const r of changes.ruleState ?? []) upsertRule.run(r.rule, r.key, JSON.stringify(r.state), now);
    for (const o of changes.outbox ?? [])
      insertOutbox.run(o.id, o.url, o.event, o.caseId, o.body, o.attempts, o.nextAt, now);
  });

  return {
    version: MIGRATIONS.length,
    save(changes, now) {
      saveAll(changes, now);
    },
    get(id) {
      const row = getCase.get(id) as { record: string } | undefined;
      return row ? withHistory(row.record) : undefined;
    },
    openCases() {
      return (openStmt.all() as { record: string }[]).map((r) => withHistory(r.record));
    },
    list(filter = {}) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      const eq = (col: string, v: string | undefined) => {
        if (v !== undefined) {
          where.push(`${col} = ?`);
          args.push(v);
        }
      };
      eq('state', filter.state);
      eq('district', filter.district);
      eq('unit', filter.unit);
      eq('category', filter.category);
      eq('urgency', filter.urgency);
      if (filter.open !== undefined) where.push(filter.open ? 'open = 1' : 'open = 0');
      if (filter.from !== undefined) {
        where.push('reported_at >= ?');
        args.push(filter.from);
      }
      if (filter.to !== undefined) {
        where.push('reported_at < ?');
        args.push(filter.to);
      }
      const sql = `SELECT record FROM cases ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY reported_at DESC, id DESC LIMIT ? OFFSET ?`;
      const rows = db.prepare(sql).all(...args, filter.limit ?? 100, filter.offset ?? 0) as { record: string }[];
      return rows.map((r) => withHistory(r.record));
    },
    dueBefore(now) {
      return (dueStmt.all(now) as { record: string }[]).map((r) => withHistory(r.record));
    },
    signals(caseId, opts = {}) {
      const rows = signalsStmt.all(caseId, opts.limit ?? 1000, opts.offset ?? 0) as { signal: string }[];
      return rows.map((r) => JSON.parse(r.signal) as CaseSignal);
    },
    signalCount(caseId) {
      return Number((signalCountStmt.get(caseId) as { n: number }).n);
    },
    ruleState() {
      return (ruleStmt.all() as { rule: string; key: string; state: string }[]).map((r) => ({
        rule: r.rule,
        key: r.key,
        state: JSON.parse(r.state) as unknown,
      }));
    },
    deleteRuleState(rule, keys) {
      deleteRules(rule, keys);
    },
    saveCapture(caseId, request, now) {
      upsertCapture.run(caseId, JSON.stringify(request), now);
    },
    captures() {
      return (capturesStmt.all() as { case_id: string; request: string }[]).map((r) => ({
        caseId: r.case_id,
        request: JSON.parse(r.request) as Record<string, unknown>,
      }));
    },
    dueDeliveries(now, limit) {
      type Row = {
        id: string;
        url: string;
        event: string;
        case_id: string;
        body: string;
        attempts: number;
        next_at: number;
        last_error: string | null;
      };
      return (dueOutbox.all(now, limit) as Row[]).map((r) => ({
        id: r.id,
        url: r.url,
        event: r.event,
        caseId: r.case_id,
        body: r.body,
        attempts: Number(r.attempts),
        nextAt: Number(r.next_at),
        ...(r.last_error !== null ? { lastError: r.last_error } : {}),
      }));
    },
    pendingDeliveries() {
      return Number((countOutbox.get() as { n: number }).n);
    },
    nextDeliveryAt() {
      const next = (countOutbox.get() as { next: number | null }).next;
      return next === null ? undefined : Number(next);
    },
    deleteDelivery(id) {
      deleteOutbox.run(id);
    },
    retryDelivery(id, attempts, nextAt, error) {
      retryOutbox.run(attempts, nextAt, error, id);
    },
    saveProfile(c) {
      insertProfile.run(c.profile, c.actor, c.note ?? null, c.at);
    },
    profile() {
      const r = lastProfile.get() as { profile: string; actor: string; note: string | null; at: number } | undefined;
      if (!r) return undefined;
      return { profile: r.profile, actor: r.actor, at: Number(r.at), ...(r.note !== null ? { note: r.note } : {}) };
    },
    nextId(prefix) {
      const row = bump.get() as { value: number };
      return `${prefix}-${String(Number(row.value)).padStart(6, '0')}`;
    },
    close() {
      if (db.open) db.close();
    },
  };
}
