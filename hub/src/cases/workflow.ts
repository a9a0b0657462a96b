/**
 * The case workflow as a pure reducer: `transition(case, command, ctx)` returns the next case or
 * throws TransitionRefusedError naming state, action and role. Every accepted command appends one
 * history entry. Stage deadlines come from the catalogue (per urgency) on the working calendar;
 * overdue detection runs on whatever clock the caller passes in (`findOverdue`).
 */
import { URGENCIES, type Urgency } from '../../../config/schema/catalogue.js';
import type { WorkCalendar } from './calendar.js';
import type { Catalogue } from './catalogue.js';
import { TransitionRefusedError } from './errors.js';
import {
  type Actor,
  type CaseRecord,
  type CaseSource,
  type CaseState,
  type Deadline,
  isOpen,
  type Role,
  type Stage,
} from './model.js';

export interface WorkflowContext {
  catalogue: Catalogue;
  calendar: WorkCalendar;
}

export const ACTIONS = [
  'accept',
  'reject',
  'file',
  'dispatch',
  'return',
  'start',
  'request_extension',
  'approve_extension',
  'deny_extension',
  'resume',
  'report_handled',
  'verify',
  'pass',
  'fail',
  'suspend',
  'unsuspend',
  'evaluate',
  'escalate',
  'mark_overdue',
  'mark_normal',
] as const;
export type Action = (typeof ACTIONS)[number];

export interface Command {
  action: Action;
  actor: Actor;
  /** When it happens (ms since epoch); the caller's clock. */
  at: number;
  note?: string;
  /** dispatch: the unit (else the case's proposed unit). */
  unit?: string;
  /** request_extension: how much more time, in the handle stage's basis. */
  extensionMs?: number;
  /** escalate: the new urgency (must be higher). */
  urgency?: Urgency;
  /** mark_overdue: which stage. */
  stage?: Stage;
}

const SUPERVISOR: readonly Role[] = ['city_supervisor', 'system'];
const COMMAND: readonly Role[] = ['district_commander', 'city_supervisor', 'system'];
const UNIT: readonly Role[] = ['unit_handler'];
const OPEN = 'open' as const;

/** Who may do what from which state, and where it leads (undefined: stays, or computed below). */
export const GUARDS: Record<
  Action,
  { from: readonly CaseState[] | typeof OPEN; roles: readonly Role[]; to?: CaseState }
> = {
  accept: { from: ['reported'], roles: SUPERVISOR, to: 'accepted' },
  reject: { from: ['reported', 'accepted'], roles: SUPERVISOR, to: 'not_filed' },
  file: { from: ['accepted'], roles: SUPERVISOR, to: 'filed' },
  dispatch: { from: ['filed', 'returned'], roles: COMMAND, to: 'dispatched' },
  return: { from: ['dispatched'], roles: UNIT, to: 'returned' },
  start: { from: ['dispatched', 'rework'], roles: UNIT, to: 'processing' },
  request_extension: { from: ['dispatched', 'processing'], roles: UNIT },
  approve_extension: {
    from: ['dispatched', 'processing'],
    roles: ['district_commander', 'city_supervisor'],
    to: 'postponed',
  },
  deny_extension: { from: ['dispatched', 'processing'], roles: ['district_commander', 'city_supervisor'] },
  resume: { from: ['postponed'], roles: [...UNIT, 'district_commander'], to: 'processing' },
  report_handled: { from: ['processing', 'postponed'], roles: UNIT, to: 'feedback' },
  verify: { from: ['feedback'], roles: SUPERVISOR, to: 'verifying' },
  pass: { from: ['verifying'], roles: SUPERVISOR, to: 'closed' },
  fail: { from: ['verifying'], roles: SUPERVISOR, to: 'rework' },
  suspend: { from: OPEN, roles: ['city_supervisor'], to: 'suspended' },
  unsuspend: { from: ['suspended'], roles: ['city_supervisor'] },
  evaluate: { from: ['closed'], roles: SUPERVISOR, to: 'evaluated' },
  escalate: { from: OPEN, roles: SUPERVISOR },
  mark_overdue: { from: OPEN, roles: ['system'] },
  mark_normal: { from: OPEN, roles: ['system'] },
};

/** The stage whose clock runs in a state (a suspended case: the stage it was in, paused). */
export function activeStage(c: Pick<CaseRecord, 'state' | 'suspendedFrom'>): Stage | undefined {
  const state = c.state === 'suspended' ? c.suspendedFrom : c.state;
  switch (state) {
    case 'filed':
    case 'returned':
      return 'dispatch';
    case 'dispatched':
    case 'processing':
    case 'postponed':
    case 'rework':
      return 'handle';
    case 'feedback':
    case 'verifying':
      return 'verify';
    default:
      return undefined;
  }
}

export interface NewCase {
  id: string;
  category: CaseRecord['category'];
  source: CaseSource;
  at: number;
  actor: Actor;
  urgency?: Urgency;
  title?: string;
  asset?: string;
  district?: string;
  grid?: string;
  point?: CaseRecord['point'];
  unit?: string;
  note?: string;
}

/** A new case in state reported, with its first history entry. Throws UnknownCategoryError. */
export function openCase(input: NewCase, ctx: WorkflowContext): CaseRecord {
  const cls = ctx.catalogue.get(input.category);
  const { at, actor, note, urgency, ...rest } = input;
  return {
    ...rest,
    urgency: urgency ?? cls.defaultUrgency,
    state: 'reported',
    reportedAt: at,
    deadlines: {},
    reworkCount: 0,
    repeatCount: 0,
    history: [
      {
        seq: 1,
        at,
        action: 'report',
        from: 'reported',
        to: 'reported',
        actor,
        ...(note !== undefined ? { note } : {}),
        data: { source: input.source, category: input.category },
      },
    ],
  };
}

const startStage = (c: CaseRecord, stage: Stage, at: number, ctx: WorkflowContext): Deadline => {
  const limit = ctx.catalogue.limits(c.category, c.urgency)[stage];
  if (!limit) return { startedAt: at, basis: 'natural' };
  return { startedAt: at, dueAt: ctx.calendar.add(at, limit), basis: limit.basis };
};

const finishStage = (c: CaseRecord, stage: Stage, at: number): Partial<Record<Stage, Deadline>> => {
  const d = c.deadlines[stage];
  return d ? { ...c.deadlines, [stage]: { ...d, doneAt: at } } : c.deadlines;
};

/** Applies one command; returns a new record (the input is not changed). */
export function transition(c: CaseRecord, cmd: Command, ctx: WorkflowContext): CaseRecord {
  const guard = GUARDS[cmd.action];
  const refuse = (reason: string): never => {
    throw new TransitionRefusedError(c.state, cmd.action, cmd.actor.role, reason);
  };
  if (guard.from === OPEN ? !isOpen(c.state) : !guard.from.includes(c.state)) {
    refuse(`allowed only from ${guard.from === OPEN ? 'an open state' : guard.from.join(', ')}`);
  }
  if (!guard.roles.includes(cmd.actor.role)) refuse(`only ${guard.roles.join(', ')} may`);

  let next: CaseRecord = { ...c, state: guard.to ?? c.state };
  let data: Record<string, unknown> | undefined;
  const at = cmd.at;
  switch (cmd.action) {
    case 'file':
      next.deadlines = { ...c.deadlines, dispatch: startStage(c, 'dispatch', at, ctx) };
      break;
    case 'dispatch': {
      const unit = cmd.unit ?? c.unit;
      if (!unit) refuse('no unit given and none proposed');
      next.unit = unit;
      const handle = startStage(c, 'handle', at, ctx);
      next.deadlines = { ...finishStage(c, 'dispatch', at), handle };
      data = { unit, ...(handle.dueAt !== undefined ? { dueAt: handle.dueAt } : {}) };
      break;
    }
    case 'return':
      if (!cmd.note) refuse('a return needs a note saying why the case is not the unit’s');
      // The centre must dispatch again; its dispatch clock starts anew.
      next.deadlines = { ...c.deadlines, dispatch: startStage(c, 'dispatch', at, ctx) };
      data = { unit: c.unit };
      break;
    case 'request_extension':
      if (!cmd.extensionMs || cmd.extensionMs <= 0) refuse('an extension request needs extensionMs > 0');
      if (c.extension) refuse('an extension request is already pending');
      next.extension = { ms: cmd.extensionMs as number, requestedAt: at, by: cmd.actor.id };
      data = { extensionMs: cmd.extensionMs };
      break;
    case 'approve_extension': {
      if (!c.extension) refuse('no extension request is pending');
      const handle = c.deadlines.handle as Deadline;
      const from = handle.dueAt ?? at;
      const dueAt = ctx.calendar.add(from, { ms: c.extension?.ms as number, basis: handle.basis });
      next.deadlines = { ...c.deadlines, handle: { ...handle, dueAt } };
      delete next.extension;
      data = { extensionMs: c.extension?.ms, dueBefore: handle.dueAt, dueAt };
      break;
    }
    case 'deny_extension':
      if (!c.extension) refuse('no extension request is pending');
      delete next.extension;
      break;
    case 'report_handled': {
      // Recorded so evaluation can work from history alone: the deadline in force and whether it was met.
      const dueAt = c.deadlines.handle?.dueAt;
      next.deadlines = { ...finishStage(c, 'handle', at), verify: startStage(c, 'verify', at, ctx) };
      delete next.extension;
      data = dueAt !== undefined ? { dueAt, onTime: at <= dueAt } : { onTime: true };
      break;
    }
    case 'pass':
      next.deadlines = finishStage(c, 'verify', at);
      break;
    case 'fail':
      next.reworkCount = c.reworkCount + 1;
      // Rework gets a fresh handling limit; the verify stage starts again at the next report.
      next.deadlines = { ...finishStage(c, 'verify', at), handle: startStage(c, 'handle', at, ctx) };
      data = { reworkCount: next.reworkCount };
      break;
    case 'suspend': {
      next.suspendedFrom = c.state;
      const stage = activeStage(c);
      const d = stage ? c.deadlines[stage] : undefined;
      if (stage && d?.dueAt !== undefined) {
        const pausedRemaining = ctx.calendar.between(at, d.dueAt, d.basis);
        next.deadlines = { ...c.deadlines, [stage]: { ...d, pausedRemaining } };
      }
      break;
    }
    case 'unsuspend': {
      next = { ...next, state: c.suspendedFrom as CaseState };
      delete next.suspendedFrom;
      const stage = activeStage(c);
      const d = stage ? c.deadlines[stage] : undefined;
      if (stage && d?.pausedRemaining !== undefined) {
        const { pausedRemaining, ...rest } = d;
        // Time left moves with the pause; a deadline already missed stays where it was.
        const dueAt = pausedRemaining > 0 ? ctx.calendar.add(at, { ms: pausedRemaining, basis: d.basis }) : d.dueAt;
        next.deadlines = { ...c.deadlines, [stage]: { ...rest, ...(dueAt !== undefined ? { dueAt } : {}) } };
      }
      break;
    }
    case 'escalate': {
      const to = cmd.urgency;
      if (!to || URGENCIES.indexOf(to) <= URGENCIES.indexOf(c.urgency)) {
        refuse(`escalate needs an urgency above ${c.urgency}`);
      }
      next.urgency = to as Urgency;
      // The running stage gets the stricter of its deadline and the new urgency's limit.
      const stage = activeStage(c);
      const d = stage ? c.deadlines[stage] : undefined;
      if (stage && d && c.state !== 'suspended') {
        const fresh = startStage(next, stage, d.startedAt, ctx);
        if (fresh.dueAt !== undefined && (d.dueAt === undefined || fresh.dueAt < d.dueAt)) {
          next.deadlines = { ...c.deadlines, [stage]: { ...d, dueAt: fresh.dueAt, basis: fresh.basis } };
        }
      }
      data = { from: c.urgency, to };
      break;
    }
    case 'mark_overdue': {
      const stage = cmd.stage;
      const d = stage ? c.deadlines[stage] : undefined;
      if (!stage || stage !== activeStage(c) || c.state === 'suspended') refuse(`stage ${stage} is not running`);
      if (!d || d.dueAt === undefined || at <= d.dueAt) refuse(`stage ${stage} is not past its deadline`);
      if (d?.overdueAt !== undefined) refuse(`stage ${stage} is already marked overdue`);
      next.deadlines = { ...c.deadlines, [stage as Stage]: { ...d, overdueAt: at } };
      data = { stage, dueAt: d?.dueAt };
      break;
    }
    case 'mark_normal':
      if (c.normalSince === undefined) refuse('the readings are not back to normal');
      next.normalConfirmedAt = at;
      data = { normalSince: c.normalSince };
      break;
    default:
      break;
  }
  next.history = [
    ...c.history,
    {
      seq: c.history.length + 1,
      at,
      action: cmd.action,
      from: c.state,
      to: next.state,
      actor: cmd.actor,
      ...(cmd.note !== undefined ? { note: cmd.note } : {}),
      ...(data !== undefined ? { data } : {}),
    },
  ];
  return next;
}

/** The mark_overdue commands due at `now`: the running stage past its deadline, once. */
export function findOverdue(c: CaseRecord, now: number): Command[] {
  const stage = activeStage(c);
  if (!stage || c.state === 'suspended' || !isOpen(c.state)) return [];
  const d = c.deadlines[stage];
  if (!d || d.dueAt === undefined || d.overdueAt !== undefined || now <= d.dueAt) return [];
  return [{ action: 'mark_overdue', stage, at: now, actor: { id: 'hub', role: 'system' } }];
}

/** Time left of the running stage at `now` (in its basis; negative when overdue), or undefined. */
export function remaining(c: CaseRecord, now: number, calendar: WorkCalendar): number | undefined {
  const stage = activeStage(c);
  const d = stage ? c.deadlines[stage] : undefined;
  if (!d || d.dueAt === undefined) return undefined;
  if (d.pausedRemaining !== undefined) return d.pausedRemaining;
  return calendar.between(now, d.dueAt, d.basis);
}
