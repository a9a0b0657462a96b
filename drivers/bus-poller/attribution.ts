/**
 * Frame attribution on a shared bus: a frame is credited only to the device being asked, and only
 * when that device's matcher claims it. Every other frame is classified (late answer of another
 * device, our own echo, a frame the codec refused, an address nobody claims) and discarded: counted
 * by reason, logged at debug, and handed to the poller's discard hook. Credited to nobody either way.
 */
import type { Logger } from '../sdk/log.js';
import type { BusDevice, BusPollerCounters, DeviceState, Discard, DiscardReason, MatchVerdict } from './types.js';

/** One device on the bus as the poller keeps it. */
export interface Slot {
  device: BusDevice<unknown>;
  index: number;
  state: DeviceState;
  /** The last request sent to this device: a late answer or an echo is matched against it. */
  lastSent: Buffer | undefined;
}

/** Runs a device's or the owner's callback; a throw is logged, never propagated into the poller. */
export type Safely = (fn: () => void, message: string, device?: string) => void;

const DISCARD_REASONS: readonly DiscardReason[] = ['late', 'other-address', 'echo', 'refused', 'noise'];

/** Counters of a new poller: every discard reason present at 0. */
export function emptyCounters(): BusPollerCounters {
  return {
    requests: 0,
    answers: 0,
    timeouts: 0,
    failedPolls: 0,
    discarded: Object.fromEntries(DISCARD_REASONS.map((r) => [r, 0])) as Record<DiscardReason, number>,
    refusedByReason: {},
  };
}

export interface FrameAttribution {
  /** Counts, logs and reports bytes that are credited to no device. */
  discard(d: Discard): void;
  /** The device's matcher verdict; a matcher that throws is logged and read as `not-mine`. */
  judge(slot: Slot, frame: Buffer, sent: Buffer): MatchVerdict<unknown>;
  /**
   * A frame that is not the in-flight device's answer: whose is it? `asked` is the device being
   * asked (if any), `firstVerdict` its matcher's verdict when that was not `not-mine`.
   */
  classifyStray(frame: Buffer, asked: Slot | undefined, firstVerdict?: MatchVerdict<unknown>): void;
}

export function createFrameAttribution(o: {
  slots: readonly Slot[];
  counters: BusPollerCounters;
  log: Logger;
  safely: Safely;
  /** The poller's options: their discard hook is read at each discard. */
  hooks: { onDiscard?(discard: Discard): void };
}): FrameAttribution {
  const { slots, counters, log, safely, hooks } = o;

  const discard = (d: Discard): void => {
    if (d.reason === 'noise') counters.discarded.noise += d.bytes;
    else counters.discarded[d.reason]++;
    if (d.decodeReason) counters.refusedByReason[d.decodeReason] = (counters.refusedByReason[d.decodeReason] ?? 0) + 1;
    if (d.reason !== 'noise') log.debug(d, 'Frame discarded');
    if (hooks.onDiscard) safely(() => hooks.onDiscard?.(d), 'Discard handler failed');
  };

  const judge = (slot: Slot, frame: Buffer, sent: Buffer): MatchVerdict<unknown> => {
    try {
      return slot.device.match(frame, sent);
    } catch (err) {
      log.error({ err, device: slot.device.id }, 'Frame matcher failed');
      return { verdict: 'not-mine' };
    }
  };

  const classifyStray = (frame: Buffer, asked: Slot | undefined, firstVerdict?: MatchVerdict<unknown>): void => {
    const inFlightId = asked?.device.id;
    const base = { bytes: frame.length, ...(inFlightId ? { inFlight: inFlightId } : {}) };
    if (firstVerdict?.verdict === 'refused') {
      discard({ ...base, reason: 'refused', decodeReason: firstVerdict.error.reason });
      return;
    }
    if (firstVerdict?.verdict === 'echo') {
      discard({ ...base, reason: 'echo', from: asked?.device.id });
      return;
    }
    let refused: MatchVerdict<unknown> | undefined;
    for (const s of slots) {
      if (s === asked || !s.lastSent) continue;
      const v = judge(s, frame, s.lastSent);
      if (v.verdict === 'mine' || v.verdict === 'echo') {
        discard({ ...base, reason: v.verdict === 'mine' ? 'late' : 'echo', from: s.device.id });
        return;
      }
      if (v.verdict === 'refused') refused ??= v;
    }
    if (refused?.verdict === 'refused' && !firstVerdict)
      discard({ ...base, reason: 'refused', decodeReason: refused.error.reason });
    else discard({ ...base, reason: 'other-address' });
  };

  return { discard, judge, classifyStray };
}
