/**
 * Correlation: turns rule signals and hotline/inspector reports into cases without duplicates.
 * A signal about an asset and category with an open case joins it (a repeat; a worse one raises
 * the urgency); a report about the same asset, or in the same grid cell within the join window,
 * joins an open case of its category, and a sensor signal joins an open report case the same way.
 * Readings back to normal for the rule's hold time mark the case (the independent observation for
 * 核查); the system verifies, and closes only when the rule says autoClose.
 *
 * Pure in the sense that matters: no I/O and no clock; the open cases live in memory, and every
 * call returns the changed records for the store to write.
 */
import { URGENCIES, type Urgency } from '../../../config/schema/catalogue.js';
import type { LonLat } from '../geo.js';
import { type Actor, type CaseRecord, type CaseSource, isOpen } from './model.js';
import type { Responsibility } from './responsibility.js';
import type { Signal } from './rules.js';
import { type Action, type Command, openCase, transition, type WorkflowContext } from './workflow.js';

/** A signal or report as recorded on its case. */
export interface CaseSignal {
  caseId: string;
  at: number;
  kind: Signal['kind'] | 'report';
  source: CaseSource;
  rule?: string;
  device?: string;
  urgency?: Urgency;
  value?: number;
  detail?: Record<string, unknown>;
  text?: string;
  reporter?: string;
}

export interface Report {
  category: CaseRecord['category'];
  source: 'hotline' | 'inspector';
  at: number;
  text: string;
  asset?: string;
  point?: LonLat;
  reporter?: string;
}

export interface Outcome {
  case: CaseRecord;
  signal: CaseSignal;
  /** opened: a new case; joined: a repeat on an open one; noted: recorded without counting (normal). */
  effect: 'opened' | 'joined' | 'noted';
}

export interface CorrelatorOptions {
  ctx: WorkflowContext;
  responsibility: Responsibility;
  newId: () => string;
  /** A report and a case in the same grid cell join when the case had a signal at most this long ago. Default 2 h. */
  joinWindowMs?: number;
}

const SYSTEM: Actor = { id: 'hub', role: 'system' };
const rank = (u: Urgency) => URGENCIES.indexOf(u);

export class Correlator {
  private readonly open = new Map<string, CaseRecord>();
  private readonly byAsset = new Map<string, string>();
  private readonly byGrid = new Map<string, Set<string>>();
  private readonly joinWindowMs: number;

  constructor(private readonly opts: CorrelatorOptions) {
    this.joinWindowMs = opts.joinWindowMs ?? 2 * 3_600_000;
  }

  /** Puts cases (loaded from the store, or changed by a person) into the index; closed ones leave it. */
  track(c: CaseRecord): void {
    this.untrack(c.id);
    if (!isOpen(c.state)) return;
    this.open.set(c.id, c);
    if (c.asset) this.byAsset.set(`${c.asset}|${c.category}`, c.id);
    if (c.grid) {
      const key = `${c.grid}|${c.category}`;
      const set = this.byGrid.get(key) ?? new Set<string>();
      set.add(c.id);
      this.byGrid.set(key, set);
    }
  }

  get(id: string): CaseRecord | undefined {
    return this.open.get(id);
  }

  openCases(): CaseRecord[] {
    return [...this.open.values()];
  }

  onSignal(s: Signal): Outcome | undefined {
    const grid = s.grid ?? (s.asset ? this.opts.responsibility.locate({ asset: s.asset }).grid : undefined);
    const existing = this.find(
      s.category,
      s.asset,
      grid,
      s.at,
      (c) => c.source === 'hotline' || c.source === 'inspector',
    );
    const signal = (caseId: string): CaseSignal => ({
      caseId,
      at: s.at,
      kind: s.kind,
      source: s.source,
      rule: s.rule,
      ...(s.device !== undefined ? { device: s.device } : {}),
      ...(s.urgency !== undefined ? { urgency: s.urgency } : {}),
      ...(s.value !== undefined ? { value: s.value } : {}),
      ...(s.detail !== undefined ? { detail: s.detail } : {}),
    });
    if (s.kind === 'normal') {
      if (!existing || existing.policy?.rule !== s.rule)
        return existing ? { case: existing, signal: signal(existing.id), effect: 'noted' } : undefined;
      const c = { ...existing, normalSince: existing.normalSince ?? s.at };
      this.track(c);
      return { case: c, signal: signal(c.id), effect: 'noted' };
    }
    if (existing) {
      let c: CaseRecord = { ...existing, repeatCount: existing.repeatCount + 1, lastSignalAt: s.at };
      delete c.normalSince;
      delete c.normalConfirmedAt;
      c.policy ??= { rule: s.rule, hold: s.hold, autoClose: s.autoClose };
      if (s.urgency && rank(s.urgency) > rank(c.urgency)) {
        c = transition(
          c,
          { action: 'escalate', actor: SYSTEM, at: s.at, urgency: s.urgency, note: `signal of ${s.rule}` },
          this.opts.ctx,
        );
      }
      this.track(c);
      return { case: c, signal: signal(c.id), effect: 'joined' };
    }
    const where = s.asset ? { asset: s.asset } : grid ? { grid } : {};
    const assignment = this.opts.responsibility.assign(s.category, where);
    let c = openCase(
      {
        id: this.opts.newId(),
        category: s.category,
        source: s.source,
        at: s.at,
        actor: SYSTEM,
        ...(s.urgency ? { urgency: s.urgency } : {}),
        ...where,
        ...(assignment.district ? { district: assignment.district } : {}),
        ...((grid ?? assignment.grid) ? { grid: grid ?? assignment.grid } : {}),
        ...(assignment.unit ? { unit: assignment.unit } : {}),
        note: `raised by rule ${s.rule}`,
      },
      this.opts.ctx,
    );
    c = { ...c, lastSignalAt: s.at, policy: { rule: s.rule, hold: s.hold, autoClose: s.autoClose } };
    if (s.autoFile) c = this.system(c, ['accept', 'file'], s.at, `high-confidence rule ${s.rule}`);
    this.track(c);
    return { case: c, signal: signal(c.id), effect: 'opened' };
  }

  onReport(r: Report): Outcome {
    const loc = this.opts.responsibility.locate({
      ...(r.asset ? { asset: r.asset } : {}),
      ...(r.point ? { point: r.point } : {}),
    });
    const existing = this.find(r.category, r.asset, loc.grid, r.at, () => true);
    const signal = (caseId: string): CaseSignal => ({
      caseId,
      at: r.at,
      kind: 'report',
      source: r.source,
      text: r.text,
      ...(r.reporter !== undefined ? { reporter: r.reporter } : {}),
    });
    if (existing) {
      const c: CaseRecord = { ...existing, repeatCount: existing.repeatCount + 1, lastSignalAt: r.at };
      this.track(c);
      return { case: c, signal: signal(c.id), effect: 'joined' };
    }
    const where = { ...(r.asset ? { asset: r.asset } : {}), ...(r.point ? { point: r.point } : {}) };
    const assignment = this.opts.responsibility.assign(r.category, where);
    const c: CaseRecord = {
      ...openCase(
        {
          id: this.opts.newId(),
          category: r.category,
          source: r.source,
          at: r.at,
          actor: { id: r.reporter ?? r.source, role: 'system' },
          title: r.text.slice(0, 80),
          ...where,
          ...(assignment.district ? { district: assignment.district } : {}),
          ...(assignment.grid ? { grid: assignment.grid } : {}),
          ...(assignment.unit ? { unit: assignment.unit } : {}),
          note: r.text,
        },
        this.opts.ctx,
      ),
      lastSignalAt: r.at,
    };
    this.track(c);
    return { case: c, signal: signal(c.id), effect: 'opened' };
  }

  /**
   * Cases whose readings have been normal for their hold time: marked (mark_normal), then verified
   * by the system once the unit has reported it handled, and closed when the rule says autoClose.
   * Returns the cases it changed.
   */
  tick(now: number): CaseRecord[] {
    const changed: CaseRecord[] = [];
    for (const c0 of this.open.values()) {
      if (c0.normalSince === undefined || !c0.policy) continue;
      let c = c0;
      if (c.normalConfirmedAt === undefined && now - c0.normalSince >= c0.policy.hold) {
        c = this.system(c, ['mark_normal'], now, `back to normal for ${c0.policy.hold / 60_000} min`);
      }
      if (c.normalConfirmedAt !== undefined) {
        if (c.state === 'feedback') c = this.system(c, ['verify'], now, 'sensor reading back to normal');
        if (c.state === 'verifying' && c.policy?.autoClose)
          c = this.system(c, ['pass'], now, 'auto-close: sensor reading back to normal');
      }
      if (c !== c0) changed.push(c);
    }
    for (const c of changed) this.track(c);
    return changed;
  }

  private system(c: CaseRecord, actions: Action[], at: number, note: string): CaseRecord {
    return actions.reduce(
      (acc, action) => transition(acc, { action, actor: SYSTEM, at, note } satisfies Command, this.opts.ctx),
      c,
    );
  }

  private untrack(id: string): void {
    const old = this.open.get(id);
    if (!old) return;
    this.open.delete(id);
    if (old.asset && this.byAsset.get(`${old.asset}|${old.category}`) === id)
      this.byAsset.delete(`${old.asset}|${old.category}`);
    if (old.grid) this.byGrid.get(`${old.grid}|${old.category}`)?.delete(id);
  }

  /** The open case of the category on the asset, else one in the grid cell (filtered) with a recent signal. */
  private find(
    category: string,
    asset: string | undefined,
    grid: string | undefined,
    at: number,
    nearby: (c: CaseRecord) => boolean,
  ): CaseRecord | undefined {
    const id = asset ? this.byAsset.get(`${asset}|${category}`) : undefined;
    if (id) return this.open.get(id);
    if (!grid) return undefined;
    let best: CaseRecord | undefined;
    for (const cid of this.byGrid.get(`${grid}|${category}`) ?? []) {
      const c = this.open.get(cid);
      if (!c || !nearby(c)) continue;
      const last = c.lastSignalAt ?? c.reportedAt;
      if (Math.abs(at - last) > this.joinWindowMs) continue;
      if (!best || last > (best.lastSignalAt ?? best.reportedAt)) best = c;
    }
    return best;
  }
}
