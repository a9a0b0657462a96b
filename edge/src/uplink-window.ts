/**
 * The uplink's send window and lane scheduling: which outbox messages are on the wire awaiting the
 * hub's end-to-end ack, the replay queue of a (re)connect, and the caps that keep the backlog and
 * evidence from crowding live data out of the window (uplink.ts explains the order and why).
 */
import type { ComposePlan, OutboxMessage } from './outbox.js';

/** Evidence messages on the wire at most (1 measured 12.5 items/s of 100 kB, 2 measured 17.7/s). */
export const MEDIA_IN_FLIGHT = 2;

export class SendWindow {
  /** Message id -> the message and when it was last put on the wire, until the hub acknowledges it. */
  private readonly inFlight = new Map<number, { message: OutboxMessage; sentAt: number }>();
  private readonly firstSentAt = new Map<number, number>();
  /** Messages composed before the current connection, to send again first; and how far we got. */
  private replay: OutboxMessage[] = [];
  private replayCursor = 0;
  /** Backlog messages on the wire at most: at least one, and never the whole window. */
  private readonly backlogCap: number;

  constructor(
    private readonly maxInFlight: number,
    backlogInFlight: number,
  ) {
    this.backlogCap = Math.max(1, Math.min(backlogInFlight, maxInFlight - 1));
  }

  /** Messages sent and awaiting the hub ack. */
  get size(): number {
    return this.inFlight.size;
  }

  /**
   * The link came up: whatever was on the wire may be lost with the old connection, so the
   * messages composed so far are replayed, events first.
   */
  restart(composed: readonly OutboxMessage[]): void {
    this.inFlight.clear();
    this.replay = [...composed.filter((m) => m.channel === 'event'), ...composed.filter((m) => m.channel !== 'event')];
    this.replayCursor = 0;
  }

  /**
   * Replays through `send` what the window has room for (events regardless of the backlog cap),
   * then returns how many new messages of each lane fit in the rest, or undefined when it is full.
   */
  fill(send: (message: OutboxMessage) => boolean, flushLive: boolean): ComposePlan | undefined {
    let backlogInFlight = 0;
    let mediaInFlight = 0;
    for (const { message } of this.inFlight.values()) {
      if (message.lane === 'media') mediaInFlight++;
      else if (message.lane !== 'live') backlogInFlight++;
    }
    while (this.replayCursor < this.replay.length && this.inFlight.size < this.maxInFlight) {
      const message = this.replay[this.replayCursor] as OutboxMessage;
      const urgent = message.channel === 'event';
      if (!urgent && backlogInFlight >= this.backlogCap) break;
      this.replayCursor++;
      if (this.inFlight.has(message.id) || !send(message)) continue;
      if (!urgent) backlogInFlight++;
    }
    const slots = this.maxInFlight - this.inFlight.size;
    if (slots <= 0) return undefined;
    const backlogSlots = Math.max(0, this.backlogCap - backlogInFlight);
    const mediaSlots = Math.max(0, MEDIA_IN_FLIGHT - mediaInFlight);
    return { slots, backlogSlots, mediaSlots, flushLive };
  }

  /** `message` is on the wire as of `now`; returns when it was first sent, undefined if this is the first time. */
  sent(message: OutboxMessage, now: number): number | undefined {
    const first = this.firstSentAt.get(message.id);
    if (first === undefined) this.firstSentAt.set(message.id, now);
    this.inFlight.set(message.id, { message, sentAt: now });
    return first;
  }

  /** Forgets a message (the outbox no longer holds it). */
  drop(id: number): void {
    this.inFlight.delete(id);
    this.firstSentAt.delete(id);
  }

  /** Messages last put on the wire at or before `due`. */
  overdue(due: number): OutboxMessage[] {
    const out: OutboxMessage[] = [];
    for (const { message, sentAt } of this.inFlight.values()) if (sentAt <= due) out.push(message);
    return out;
  }

  /** Messages in flight that an ack of (bootId, seq) covers. */
  covered(bootId: string, seq: number): OutboxMessage[] {
    const out: OutboxMessage[] = [];
    for (const { message } of this.inFlight.values())
      if (message.bootId === bootId && message.seq <= seq) out.push(message);
    return out;
  }

  /** The hub acknowledged (bootId, seq): the messages it covers leave the window. */
  settle(bootId: string, seq: number): void {
    for (const message of this.covered(bootId, seq)) this.drop(message.id);
  }

  /** True while backlog of this connection is still to replay or on the wire. */
  replayPending(): boolean {
    if (this.replayCursor < this.replay.length) return true;
    for (const { message } of this.inFlight.values()) if (message.lane === 'backlog') return true;
    for (const message of this.replay) if (this.inFlight.has(message.id)) return true;
    return false;
  }
}
