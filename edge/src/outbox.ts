/**
 * The edge outbox seam (DESIGN §4.2): every Reading, Event and evidence item is taken into the outbox, composed
 * into numbered uplink messages, and kept until the HUB acknowledges it end to end. The uplink
 * only sees this interface; `DiskOutbox` (disk-outbox.ts) is the implementation.
 *
 * Vocabulary:
 * - an *item* is one Reading or Event; it is *taken* once it is on disk (group commit);
 * - a *message* is a composed envelope body with its (bootId, seq); its composition is on disk
 *   before it is sent, so a replay after a crash re-sends the same (bootId, seq) with the same
 *   content and the hub's dedup recognises it;
 * - the *live* lane holds telemetry taken since the link last came up; the *backlog* lane holds
 *   what was taken before (an outage, a restart). Events have their own lane and go first.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../drivers/sdk/clock.js';
import type { CityEvent, Reading } from '../../drivers/sdk/reading.js';

/** Uplink channels that go through the outbox (state and cmd-result do not: they are not sequenced). */
export type OutboxChannel = 'telemetry' | 'event' | 'media';

/** `media`: evidence items, one per message, in a lane of their own (see ComposePlan.mediaSlots). */
export type OutboxLane = 'event' | 'live' | 'backlog' | 'media';

export interface OutboxMessage {
  /** Row id: composition order over all boots. */
  readonly id: number;
  /** Boot the message was composed in; messages of an earlier boot are replayed under it. */
  readonly bootId: string;
  /** Position in the boot's single sequence space (telemetry and events together), from 0. */
  readonly seq: number;
  readonly channel: OutboxChannel;
  readonly lane: OutboxLane;
  /** Readings or events it carries. */
  readonly count: number;
  /** Size of the body (a JSON array). */
  readonly bytes: number;
  /** Gateway clock, ms, when its oldest item was taken. */
  readonly takenAt: number;
}

/** How many new messages of each lane the uplink has room for. */
export interface ComposePlan {
  /** Free in-flight slots in total. */
  slots: number;
  /** Of those, how many backlog messages at most. */
  backlogSlots: number;
  /** Compose the live lane even when its batch is neither full nor due (stopping). */
  flushLive?: boolean;
  /** Of those, how many media messages at most (one evidence item each). Default 0. */
  mediaSlots?: number;
}

export interface OutboxStats {
  /** Readings and events held (taken and not acknowledged), composed or not. */
  items: number;
  /** Messages composed and not acknowledged. */
  messages: number;
  /** Bytes counted against the quota. */
  bytes: number;
  /** Telemetry waiting in the backlog lane / the live lane, events waiting to be composed. */
  backlog: number;
  live: number;
  events: number;
  /** Evidence items waiting to be composed. */
  media: number;
}

export interface Outbox {
  /** Boot id of this process: new messages get it. */
  readonly bootId: string;
  /** Takes a reading: it is on disk after the next group commit. */
  addReading(reading: Reading): void;
  addEvent(event: CityEvent): void;
  /** Takes an evidence item (a media item frame, media-wire.ts encodeMediaItem). */
  addMedia(item: Buffer, device: string, ts: number): void;
  /** Commits what was added now (normally done by the group-commit timer). */
  commit(): void;
  /** Calls `listener` after every commit that took items, and after quota work. */
  onChange(listener: () => void): void;
  /** Everything taken so far becomes backlog (the link just came up). */
  markBacklog(): void;
  /** Composes and persists new messages: events first, then live, then backlog telemetry. */
  compose(plan: ComposePlan): OutboxMessage[];
  /** When the live lane's oldest reading will have waited `maxDelay` (undefined: live lane empty). */
  liveDueAt(): number | undefined;
  /** Composed, unacknowledged messages in composition order (earlier boots first). */
  unacked(): OutboxMessage[];
  /** The JSON array a message carries (a media item frame for media), undefined once it is acknowledged. */
  body(message: OutboxMessage): string | Buffer | undefined;
  /** True while messages of `bootId` are held (an ack naming it is meaningful). */
  holdsBoot(bootId: string): boolean;
  /**
   * The hub made everything up to `seq` (inclusive) of `bootId` durable: delete it.
   * Returns the messages and items deleted.
   */
  ack(bootId: string, seq: number): { messages: number; items: number };
  /** Lowest seq of `bootId` still held; for the current boot when nothing is held, the next seq. */
  firstUnacked(bootId: string): number;
  /** Turns recorded thinning into `outbox.loss` events (call when the link is up). Returns events added. */
  reportLosses(): number;
  stats(): OutboxStats;
  /** Gateway-clock ms when the oldest held item was taken, undefined when empty. */
  oldestTakenAt(): number | undefined;
  close(): Promise<void>;
}

/** Boot ids are time-ordered and unique enough across restarts of one gateway: `<base36 ms>-<12 hex>`. */
export function newBootId(clock: Clock): string {
  return `${clock.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}
