/**
 * The case core put together for the hub: rule engine -> correlator -> store, plus person-made
 * transitions and the clock (rule ticks, back-to-normal holds, overdue stages). Every call saves
 * what it changed in one durable transaction before returning, and returns the changes so the
 * caller can publish them (SSE, notifications). Time always comes from the caller.
 */
import type { CatalogueConfig } from '../../../config/schema/catalogue.js';
import type { CityConfig } from '../../../config/schema/city.js';
import type { Profile, RulesConfig } from '../../../config/schema/rules.js';
import { createWorkCalendar } from './calendar.js';
import { createCatalogue } from './catalogue.js';
import { type CaseSignal, Correlator, type Report } from './correlation.js';
import { UnknownCaseError } from './errors.js';
import type { Actor, CaseRecord } from './model.js';
import { createResponsibility } from './responsibility.js';
import {
  type CameraObservation,
  createRuleEngine,
  type Observation,
  type Place,
  type ProfileResolver,
  type RuleStateEntry,
  type Signal,
} from './rules.js';
import { type CaseStore, type OutboxEntry, openCaseStore } from './store.js';
import { type Command, findOverdue, openCase, transition, type WorkflowContext } from './workflow.js';

export interface CaseChange {
  case: CaseRecord;
  /** What happened: opened, joined, noted (a signal recorded), or the workflow action. */
  effect: string;
}

/**
 * A case raised by a hub judgement outside the rule engine, with its unit known (fleet coverage:
 * the vehicle's company). Placed by `point` (district and grid cell found from it when not given).
 */
export interface RaisedCase {
  category: CaseRecord['category'];
  source: 'sensor' | 'video';
  at: number;
  unit: string;
  title: string;
  note: string;
  point?: CaseRecord['point'];
  district?: string;
  grid?: string;
  /** Recorded as the case's first signal: which judgement, the figures. */
  signal: { rule: string; device?: string; value?: number; detail?: Record<string, unknown> };
}

export interface CaseService {
  /**
   * Opens a raised case, accepted and filed at once (the judgement is the evidence); the `state`
   * rows it gives for the new case id (the caller's record of what it raised) are saved in the same
   * transaction.
   */
  raise(r: RaisedCase, state?: (caseId: string) => readonly RuleStateEntry[]): CaseChange;
  onReadings(readings: readonly Observation[]): CaseChange[];
  onCameraEvent(event: CameraObservation): CaseChange[];
  /** A hotline (12319) or inspector report: joins a nearby open case of its category, else opens one. */
  report(report: Report): CaseChange;
  /** A person's (or the system's) workflow command; throws TransitionRefusedError or UnknownCaseError. */
  apply(caseId: string, command: Command): CaseRecord;
  /** The clock: staleness and windows, holds after back-to-normal, overdue stages. */
  tick(now: number): CaseChange[];
  setProfile(profile: Profile): void;
  /** Per-place profile (the incidents' scopes); undefined: the city-wide one everywhere. */
  setProfileResolver(resolve: ProfileResolver | undefined): void;
  /** The profile in force at a place (an open incident's there, else the city-wide one). */
  profileAt(place: Place): Profile;
  /** Names the incident a case raised now belongs to (set on the case before it is first saved). */
  setIncidentLinker(link: IncidentLinker | undefined): void;
  readonly store: CaseStore;
  readonly ctx: WorkflowContext;
  close(): void;
}

/** The incident open where and when a case is raised, if any. */
export type IncidentLinker = (c: CaseRecord) => string | undefined;

export interface CaseServiceOptions {
  city: CityConfig;
  catalogue: CatalogueConfig;
  rules: RulesConfig;
  /** Directory of cases.db (the hub data dir). */
  dataDir: string;
  /** Prefix of case ids. Default CG. */
  idPrefix?: string;
  joinWindowMs?: number;
  /** Notifications of changes, saved in the same transaction as the changes (the webhook outbox). */
  notify?: (changes: readonly CaseChange[], now: number) => OutboxEntry[];
}

export function openCaseService(opts: CaseServiceOptions): CaseService {
  const calendar = createWorkCalendar(opts.city.workCalendar, opts.city.city.timezone);
  const ctx: WorkflowContext = { catalogue: createCatalogue(opts.catalogue, calendar.workDayMs), calendar };
  const store = openCaseStore(opts.dataDir);
  const engine = createRuleEngine(opts.rules.rules);
  engine.load(store.ruleState());
  // The profile switched before a restart stays in force.
  const saved = store.profile()?.profile;
  if (saved) engine.setProfile(saved as Profile);
  const notify = opts.notify ?? (() => []);
  const responsibility = createResponsibility(opts.city);
  const correlator = new Correlator({
    ctx,
    responsibility,
    newId: () => store.nextId(opts.idPrefix ?? 'CG'),
    ...(opts.joinWindowMs !== undefined ? { joinWindowMs: opts.joinWindowMs } : {}),
  });
  for (const c of store.openCases()) correlator.track(c);
  let linkIncident: IncidentLinker | undefined;
  const link = (change: { case: CaseRecord; effect: string }) => {
    if (change.effect !== 'opened' || !linkIncident || change.case.incident !== undefined) return;
    const id = linkIncident(change.case);
    // The correlator tracks this very object: the link is kept for the case's later changes too.
    if (id !== undefined) change.case.incident = id;
  };

  /** Correlates signals, runs `then` (clock work that must see them), saves it all in one transaction. */
  const commit = (signals: readonly Signal[], now: number, then: () => CaseChange[] = () => []): CaseChange[] => {
    const changes: CaseChange[] = [];
    const recorded: CaseSignal[] = [];
    for (const s of signals) {
      const out = correlator.onSignal(s);
      if (!out) continue;
      recorded.push(out.signal);
      const change = { case: out.case, effect: out.effect };
      link(change);
      changes.push(change);
    }
    changes.push(...then());
    const latest = new Map(changes.map((c) => [c.case.id, c.case]));
    const outbox = notify(changes, now);
    store.save({ cases: [...latest.values()], signals: recorded, ruleState: engine.changed(), outbox }, now);
    return changes;
  };

  return {
    store,
    ctx,
    setProfile: (p) => engine.setProfile(p),
    setProfileResolver: (r) => engine.setProfileResolver(r),
    profileAt: (place) => engine.profileAt(place),
    setIncidentLinker: (l) => {
      linkIncident = l;
    },
    onReadings(readings) {
      const signals = readings.flatMap((r) => engine.onReading(r));
      const now = readings.reduce((m, r) => Math.max(m, r.ts), 0);
      return commit(signals, now);
    },
    onCameraEvent(event) {
      return commit(engine.onCameraEvent(event), event.ts);
    },
    raise(r, state = () => []) {
      const system: Actor = { id: 'hub', role: 'system' };
      const loc = r.point && (!r.district || !r.grid) ? responsibility.locate({ point: r.point }) : {};
      const district = r.district ?? loc.district;
      const grid = r.grid ?? loc.grid;
      let c = openCase(
        {
          id: store.nextId(opts.idPrefix ?? 'CG'),
          category: r.category,
          source: r.source,
          at: r.at,
          actor: system,
          title: r.title,
          unit: r.unit,
          ...(r.point ? { point: r.point } : {}),
          ...(district ? { district } : {}),
          ...(grid ? { grid } : {}),
          note: r.note,
        },
        ctx,
      );
      for (const action of ['accept', 'file'] as const)
        c = transition(c, { action, actor: system, at: r.at, note: `raised by ${r.signal.rule}` }, ctx);
      c = { ...c, lastSignalAt: r.at };
      const signal: CaseSignal = { caseId: c.id, at: r.at, kind: 'raise', source: r.source, ...r.signal };
      const change: CaseChange = { case: c, effect: 'opened' };
      store.save({ cases: [c], signals: [signal], ruleState: state(c.id), outbox: notify([change], r.at) }, r.at);
      correlator.track(c);
      return change;
    },
    report(r) {
      const out = correlator.onReport(r);
      link(out);
      store.save({ cases: [out.case], signals: [out.signal] }, r.at);
      return { case: out.case, effect: out.effect };
    },
    apply(caseId, command) {
      const c = correlator.get(caseId) ?? store.get(caseId);
      if (!c) throw new UnknownCaseError(caseId);
      const next = transition(c, command, ctx);
      store.save({ cases: [next], outbox: notify([{ case: next, effect: command.action }], command.at) }, command.at);
      correlator.track(next);
      return next;
    },
    tick(now) {
      // Signals first: a gauge silent again must not have its case marked back to normal.
      return commit(engine.tick(now), now, () => {
        const out: CaseChange[] = correlator
          .tick(now)
          .map((c) => ({ case: c, effect: c.history.at(-1)?.action ?? 'tick' }));
        for (const c0 of correlator.openCases()) {
          let c = c0;
          for (const cmd of findOverdue(c0, now)) c = transition(c, cmd, ctx);
          if (c !== c0) {
            correlator.track(c);
            out.push({ case: c, effect: 'mark_overdue' });
          }
        }
        return out;
      });
    },
    close() {
      store.close();
    },
  };
}
