/**
 * The case core inside the running hub: opens the case service from the city config (catalogue,
 * rules, units, calendar), feeds it what the ingest stored, drives its clock, publishes every
 * change on the live bus (`event: case` on /api/stream) and asks an asset's cameras for evidence
 * when a case opens on it.
 *
 * Readings and events arrive from the ingest's durable callback, which is on the ack path: they
 * are only queued there, and the queue is drained in order on later turns of the event loop. A
 * batch the case core refuses is logged and counted, and the queue goes on.
 */
import path from 'node:path';
import type { LoadedHubConfig } from '../../../config/load.js';
import type { CatalogueConfig } from '../../../config/schema/catalogue.js';
import type { Profile, RulesConfig } from '../../../config/schema/rules.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { CaptureCommands } from '../evidence/capture.js';
import type { StoredItems } from '../ingest/ingest.js';
import type { LiveBus } from '../live/bus.js';
import type { ReadingPoint } from '../telemetry/point-mapping.js';
import { createWorkCalendar } from './calendar.js';
import { createCatalogue, loadCatalogue, loadRules } from './catalogue.js';
import type { Report } from './correlation.js';
import { type Evaluation, evaluate, type Indicators } from './evaluation.js';
import { type CaseRecord, isOpen } from './model.js';
import { localPeriod, type Period } from './period.js';
import type { Observation, RuleStateEntry } from './rules.js';
import { type CaseChange, type CaseService, openCaseService, type RaisedCase } from './service.js';
import type { ProfileChange } from './store.js';
import { notificationsFor, WebhookDelivery } from './webhooks.js';
import type { Command } from './workflow.js';

/** A camera capture asked for when a case opened on an asset. */
export interface CaptureRequest {
  asset: string;
  /** Hub clock, ms, of the last attempt. */
  at: number;
  attempts: number;
  /** Commands sent, by camera device. */
  commands: { device: string; commandId: string }[];
  /** Why the last attempt did not reach every camera. */
  error?: string;
}

export interface HubCasesOptions {
  loaded: Pick<LoadedHubConfig, 'file' | 'hub' | 'city' | 'dataDir'>;
  bus: LiveBus;
  log: Logger;
  metrics: MetricsRegistry;
  /** Asks an asset's cameras for evidence; without it no capture is requested. */
  capture?: Pick<CaptureCommands, 'requestCapture' | 'capture'>;
  /** Clock period (rule timers, back-to-normal holds, overdue, capture retries). Default 5 s. */
  tickMs?: number;
  now?: () => number;
}

/** Attempts per capture request before it is given up (the first plus retries on later ticks). */
export const CAPTURE_ATTEMPTS = 4;
/** Queued messages handled per turn of the event loop, so a backlog does not starve I/O. */
const BATCHES_PER_TURN = 50;
/** Cases read for one evaluation (every case reported before the period's end). */
const EVALUATION_MAX_CASES = 100_000;
const EVALUATION_REFRESH_MS = 60_000;
/** Readings of consecutive messages given to the case core (one durable save) at once. */
const READINGS_PER_SAVE = 2_000;

type Job = StoredItems;

export class HubCases {
  readonly service: CaseService;
  /** The case catalogue in force (classes with names and limits), for GET /api/catalogue. */
  readonly catalogue: CatalogueConfig;
  /** The rules in force (for GET /api/rules: the limits a chart draws). */
  readonly rules: RulesConfig;
  private readonly queue: Job[] = [];
  private draining: NodeJS.Immediate | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly assetKinds: Map<string, string>;
  private readonly camerasOf: Map<string, readonly { device: string; preset?: string }[]>;
  private readonly captures = new Map<string, CaptureRequest>();
  private readonly webhooks: WebhookDelivery;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly changesTotal;
  private readonly inputErrors;
  private readonly captureFailures;
  private closed = false;

  constructor(private readonly o: HubCasesOptions) {
    const { city, hub, file, dataDir } = o.loaded;
    this.log = o.log;
    this.now = o.now ?? Date.now;
    // The catalogue and rules are named relative to the city file (the shipped ones when not named).
    const cityFile = path.resolve(path.dirname(path.resolve(file)), hub.city);
    const calendar = createWorkCalendar(city.workCalendar, city.city.timezone);
    const catalogue = loadCatalogue(cityFile, city.catalogue);
    this.catalogue = catalogue;
    const rules = loadRules(cityFile, city.rules, createCatalogue(catalogue, calendar.workDayMs));
    this.rules = rules;
    const targets = hub.cases.webhooks;
    this.service = openCaseService({
      city,
      catalogue,
      rules,
      dataDir,
      notify: (changes, now) => notificationsFor(targets, changes, now),
    });
    this.webhooks = new WebhookDelivery({
      store: this.service.store,
      targets,
      log: o.log.child({ component: 'hub.cases.webhooks' }),
      metrics: o.metrics,
      now: this.now,
    });
    this.webhooks.start();
    this.assetKinds = new Map(city.assets.map((a) => [a.id, a.kind]));
    this.camerasOf = new Map(city.assets.map((a) => [a.id, a.cameras ?? []]));
    // Requests recorded before a restart: a failed one is retried on the clock while attempts remain.
    for (const { caseId, request } of this.service.store.captures())
      this.captures.set(caseId, request as unknown as CaptureRequest);

    const m = o.metrics;
    this.changesTotal = m.counter(
      'citygrid_cases_changes_total',
      'Case changes by effect (opened, joined, noted, or the workflow action such as dispatch, pass, mark_overdue) and category.',
    );
    this.inputErrors = m.counter(
      'citygrid_cases_input_errors_total',
      'Readings or events the case core could not take (logged with the reason), by source (reading, event).',
    );
    this.captureFailures = m.counter(
      'citygrid_cases_capture_failures_total',
      'Evidence requests for a new case that did not reach every camera of its asset (retried on the clock).',
    );
    // Every category of the catalogue is set, so one whose last case closed reads 0, not its old count.
    const categories = this.service.ctx.catalogue.categories();
    m.gauge('citygrid_cases_open', 'Open cases by category.', (g) => {
      const open = this.countOpen((c) => c.category);
      for (const category of categories) g.set({ category }, open.get(category) ?? 0);
    });
    m.gauge('citygrid_cases_overdue', 'Open cases with a stage past its deadline, by category.', (g) => {
      const now = this.now();
      const overdue = this.countOpen((c) => (isOverdue(c, now) ? c.category : undefined));
      for (const category of categories) g.set({ category }, overdue.get(category) ?? 0);
    });
    let evaluatedAt = Number.NEGATIVE_INFINITY;
    m.gauge(
      'citygrid_cases_evaluation',
      'Evaluation of the current month in the city time zone, the numbers of GET /api/evaluation?period=YYYY-MM, by scope (total, unit, district), key (unit or district id) and indicator (registered, dispatched, closed, handledOnTime, onTimeHandlingRate, closureRate, reworkRate, p90HandleMs, …); recomputed at most once a minute.',
      (g) => {
        const now = this.now();
        if (this.closed || now - evaluatedAt < EVALUATION_REFRESH_MS) return;
        evaluatedAt = now;
        const ev = this.evaluation(localPeriod('month', city.city.timezone, now) as Period);
        const put = (scope: string, key: string, ind: Indicators) => {
          for (const [indicator, v] of Object.entries(ind))
            if (typeof v === 'number') g.set({ scope, key, indicator }, v);
        };
        put('total', '', ev.total);
        for (const [key, ind] of Object.entries(ev.byUnit)) put('unit', key, ind);
        for (const [key, ind] of Object.entries(ev.byDistrict)) put('district', key, ind);
      },
    );
    this.timer = setInterval(() => this.tick(), o.tickMs ?? 5_000);
    this.timer.unref();
    o.log.info(
      { rules: rules.rules.length, classes: catalogue.classes.length, open: this.service.store.openCases().length },
      'Cases ready',
    );
  }

  /** The ingest's durable callback: queue only (it runs on the ack path). */
  readonly onStored = (items: StoredItems): void => {
    if (this.closed) return;
    this.queue.push(items);
    this.draining ??= setImmediate(this.drain);
  };

  /** A hotline or inspector report; published like any change. Throws UnknownCategoryError. */
  report(r: Report): CaseChange {
    const change = this.service.report(r);
    this.publish([change]);
    return change;
  }

  /** A case raised by a hub judgement (fleet coverage); published like any change. */
  raise(r: RaisedCase, state?: (caseId: string) => readonly RuleStateEntry[]): CaseChange {
    const change = this.service.raise(r, state);
    this.publish([change]);
    return change;
  }

  /** A workflow command on a case; throws TransitionRefusedError or UnknownCaseError. */
  apply(caseId: string, command: Command): CaseRecord {
    const next = this.service.apply(caseId, command);
    this.publish([{ case: next, effect: command.action }]);
    return next;
  }

  /** The rule profile in force and its last switch (none recorded: normal). */
  profile(): ProfileChange {
    return this.service.store.profile() ?? { profile: 'normal', actor: 'system', at: 0 };
  }

  /** Switches the rule profile (recorded, kept across restarts) and announces it on the stream. */
  setProfile(change: ProfileChange & { profile: Profile }): ProfileChange {
    this.service.store.saveProfile(change);
    this.service.setProfile(change.profile);
    this.log.info({ profile: change.profile, actor: change.actor, note: change.note }, 'Rule profile switched');
    this.o.bus.emit('profile', change);
    return change;
  }

  /** Evaluation (综合评价) of a period from the histories of the cases reported before its end. */
  evaluation(period: Period): Evaluation {
    return evaluate(this.service.store.list({ to: period.to, limit: EVALUATION_MAX_CASES }), period.from, period.to);
  }

  /** The capture request recorded for a case, if one was made. */
  captureOf(caseId: string): CaptureRequest | undefined {
    return this.captures.get(caseId);
  }

  /** Runs the clock once (also on the timer): rule timers, holds, overdue, capture retries. */
  tick(): CaseChange[] {
    if (this.closed) return [];
    this.drain();
    let changes: CaseChange[] = [];
    try {
      changes = this.service.tick(this.now());
    } catch (err) {
      this.log.error({ err }, 'Case clock failed; trying again on the next tick');
    }
    this.publish(changes);
    for (const [caseId, req] of this.captures) {
      if (req.error === undefined || req.attempts >= CAPTURE_ATTEMPTS) continue;
      // A case closed meanwhile needs no more evidence.
      const c = this.service.store.get(caseId);
      if (c && isOpen(c.state)) void this.requestCapture(caseId, req);
    }
    return changes;
  }

  /** Drains what is queued, stops the clock, closes cases.db. */
  close(): void {
    if (this.closed) return;
    this.drain();
    this.closed = true;
    clearInterval(this.timer);
    if (this.draining) clearImmediate(this.draining);
    // A delivery under way is not awaited: it stays in the outbox and is sent again after the restart.
    void this.webhooks.close();
    this.service.close();
  }

  private readonly drain = (): void => {
    if (this.draining) clearImmediate(this.draining);
    this.draining = undefined;
    for (let n = 0; n < BATCHES_PER_TURN && this.queue.length > 0; n++) {
      const job = this.queue.shift() as Job;
      if ('events' in job) {
        this.onEvents(job.events);
        continue;
      }
      // Consecutive reading messages go to the case core as one batch: one durable save for all of
      // them instead of one per message (order is kept; events are never reordered past readings).
      const points = [...job.readings];
      while (points.length < READINGS_PER_SAVE && this.queue[0] && 'readings' in this.queue[0])
        points.push(...(this.queue.shift() as { readings: readonly ReadingPoint[] }).readings);
      this.onReadings(points);
    }
    if (this.queue.length > 0 && !this.closed) this.draining = setImmediate(this.drain);
  };

  private onReadings(points: readonly ReadingPoint[]): void {
    const observations: Observation[] = points.map((p) => {
      const kind = p.asset ? this.assetKinds.get(p.asset) : undefined;
      return {
        device: p.reading.device,
        kind: p.reading.kind,
        ts: p.reading.ts,
        fields: p.reading.fields as Observation['fields'],
        ...(p.reading.quality ? { quality: p.reading.quality } : {}),
        ...(p.asset ? { asset: p.asset } : {}),
        ...(kind ? { assetKind: kind } : {}),
        ...(p.grid ? { grid: p.grid } : {}),
      };
    });
    try {
      this.publish(this.service.onReadings(observations));
    } catch (err) {
      this.inputErrors.inc({ source: 'reading' }, observations.length);
      const devices = [...new Set(observations.map((o) => o.device))];
      this.log.error({ err, devices }, 'Case core refused readings; they are stored, but raise no case');
    }
  }

  private onEvents(events: Extract<Job, { events: unknown }>['events']): void {
    for (const { event, asset, grid } of events) {
      const kind = asset ? this.assetKinds.get(asset) : undefined;
      try {
        this.publish(
          this.service.onCameraEvent({
            type: event.type,
            device: event.device,
            ts: event.ts,
            ...(asset ? { asset } : {}),
            ...(kind ? { assetKind: kind } : {}),
            ...(grid ? { grid } : {}),
          }),
        );
      } catch (err) {
        this.inputErrors.inc({ source: 'event' });
        this.log.error({ err, device: event.device, type: event.type }, 'Case core refused an event');
      }
    }
  }

  private publish(changes: readonly CaseChange[]): void {
    if (changes.length > 0) this.webhooks.kick();
    for (const change of changes) {
      this.changesTotal.inc({ effect: change.effect, category: change.case.category });
      this.o.bus.emit('case', change);
      const c = change.case;
      if (change.effect === 'opened') {
        this.log.info({ case: c.id, category: c.category, asset: c.asset, urgency: c.urgency }, 'Case opened');
        if (c.asset && (this.camerasOf.get(c.asset)?.length ?? 0) > 0 && this.o.capture)
          void this.requestCapture(c.id, { asset: c.asset, at: 0, attempts: 0, commands: [] });
      }
    }
  }

  /**
   * One attempt: the first asks every camera of the asset (CaptureCommands.requestCapture), a
   * retry only the cameras no command reached yet. Recorded in cases.db before and after.
   */
  private async requestCapture(caseId: string, req: CaptureRequest): Promise<void> {
    const capture = this.o.capture;
    if (!capture) return;
    const attempt: CaptureRequest = { ...req, at: this.now(), attempts: req.attempts + 1, commands: [...req.commands] };
    delete attempt.error;
    // Recorded before it is sent: a tick while it is under way must not send it again.
    this.recordCapture(caseId, attempt);
    const errors: string[] = [];
    try {
      const results =
        req.attempts === 0
          ? await capture.requestCapture(req.asset)
          : await Promise.all(
              (this.camerasOf.get(req.asset) ?? [])
                .filter((cam) => !req.commands.some((c) => c.device === cam.device))
                .map(async (cam) => {
                  try {
                    const args = { mode: 'snapshot' as const, ...(cam.preset ? { preset: cam.preset } : {}) };
                    return { device: cam.device, command: await capture.capture(cam.device, args) };
                  } catch (err) {
                    return { device: cam.device, error: (err as Error).message };
                  }
                }),
            );
      for (const r of results) {
        if (r.command) attempt.commands.push({ device: r.device, commandId: r.command.id });
        else errors.push(`${r.device}: ${r.error ?? 'not sent'}`);
      }
    } catch (err) {
      errors.push((err as Error).message);
    }
    if (errors.length > 0) attempt.error = errors.join('; ');
    if (this.closed) return;
    this.recordCapture(caseId, attempt);
    if (errors.length === 0) {
      this.log.info({ case: caseId, asset: req.asset, commands: attempt.commands }, 'Evidence requested for case');
      return;
    }
    this.captureFailures.inc();
    const last = attempt.attempts >= CAPTURE_ATTEMPTS;
    this.log.warn(
      { case: caseId, asset: req.asset, attempt: attempt.attempts, err: attempt.error },
      last ? 'Evidence request for case failed; giving up' : 'Evidence request for case failed; retrying on the clock',
    );
  }

  private recordCapture(caseId: string, req: CaptureRequest): void {
    this.captures.set(caseId, req);
    try {
      this.service.store.saveCapture(caseId, { ...req }, this.now());
    } catch (err) {
      this.log.error({ err, case: caseId }, 'Evidence request of case not recorded in cases.db');
    }
  }

  private countOpen(key: (c: CaseRecord) => string | undefined): Map<string, number> {
    const out = new Map<string, number>();
    if (this.closed) return out;
    for (const c of this.service.store.openCases()) {
      const k = key(c);
      if (k !== undefined) out.set(k, (out.get(k) ?? 0) + 1);
    }
    return out;
  }
}

/** A stage of the case is running past its deadline. */
export function isOverdue(c: CaseRecord, now: number): boolean {
  if (c.state === 'suspended') return false;
  return Object.values(c.deadlines).some((d) => d && d.doneAt === undefined && d.dueAt !== undefined && d.dueAt < now);
}
