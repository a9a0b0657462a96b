/**
 * The case record and its vocabulary: states of the fuller workflow of shared/domain §6.4, roles,
 * sources, stages with their deadlines, and the append-only history entry.
 */
import type { CategoryKey, Urgency } from '../../../config/schema/catalogue.js';
import type { LonLat } from '../geo.js';

export const CASE_STATES = [
  'reported', // 上报
  'accepted', // 受理
  'filed', // 立案
  'dispatched', // 派遣
  'returned', // 回退 (the unit says it is not theirs)
  'processing', // 处置中
  'postponed', // 延期 (extension approved)
  'feedback', // 处理反馈 (the unit reports it handled)
  'verifying', // 核查
  'rework', // 返工
  'closed', // 结案
  'not_filed', // 不予立案 / 作废
  'suspended', // 挂账 (clock paused, excluded from on-time statistics)
  'evaluated', // 综合评价
] as const;
export type CaseState = (typeof CASE_STATES)[number];

export const TERMINAL_STATES: readonly CaseState[] = ['closed', 'not_filed', 'evaluated'];
export const isOpen = (state: CaseState): boolean => !TERMINAL_STATES.includes(state);

/** Who acts: 监督中心 (accepts, files, verifies, closes), 指挥中心 (dispatches), the unit, or the hub itself. */
export const ROLES = ['city_supervisor', 'district_commander', 'unit_handler', 'system'] as const;
export type Role = (typeof ROLES)[number];

export const SOURCES = ['sensor', 'video', 'hotline', 'inspector'] as const;
export type CaseSource = (typeof SOURCES)[number];

export type Stage = 'dispatch' | 'handle' | 'verify';

export interface Deadline {
  /** When the stage's clock started (ms since epoch). */
  startedAt: number;
  /** When it is due; undefined when the catalogue sets no limit for the stage. */
  dueAt?: number;
  basis: 'work' | 'natural';
  /** When the stage was completed (dispatched, handled, verified). */
  doneAt?: number;
  /** When the hub first found it overdue. */
  overdueAt?: number;
  /** While suspended: the time that was left, in `basis`, so resuming moves `dueAt` by the pause. */
  pausedRemaining?: number;
}

export interface Actor {
  id: string;
  role: Role;
}

export interface HistoryEntry {
  /** 1, 2, 3… per case. */
  seq: number;
  at: number;
  action: string;
  from: CaseState;
  to: CaseState;
  actor: Actor;
  note?: string;
  /** Action details: unit dispatched to, urgency before/after, extension, stage overdue. */
  data?: Record<string, unknown>;
}

export interface CaseRecord {
  id: string;
  category: CategoryKey;
  source: CaseSource;
  urgency: Urgency;
  state: CaseState;
  title?: string;
  asset?: string;
  district?: string;
  grid?: string;
  point?: LonLat;
  /** Responsible unit (set at dispatch, proposed by responsibility at creation). */
  unit?: string;
  reportedAt: number;
  deadlines: Partial<Record<Stage, Deadline>>;
  reworkCount: number;
  /** Signals and reports that joined the case after the first. */
  repeatCount: number;
  /** A pending extension request. */
  extension?: { ms: number; requestedAt: number; by: string };
  /** The state a suspended case returns to. */
  suspendedFrom?: CaseState;
  /** The flood/snow incident open in the case's district when it was raised (hub/src/incidents). */
  incident?: string;
  /** Time of the last signal or report that raised or joined the case. */
  lastSignalAt?: number;
  /** Case policy of the rule that opened the case (sensor and video cases). */
  policy?: { rule: string; hold: number; autoClose: boolean };
  /** Since when the rule's readings have been back to normal (cleared by a new raise). */
  normalSince?: number;
  /** When they had been normal for the hold time: the independent observation for 核查. */
  normalConfirmedAt?: number;
  history: HistoryEntry[];
}
