/**
 * The edge outbox: every uplink message waits here, numbered, until the hub acknowledges it end to
 * end (DESIGN §4.2). This file is the seam a disk-backed outbox will plug into: the agent and the
 * uplink only see the `Outbox` interface. `MemoryOutbox` keeps messages in memory, bounded by
 * `delivery.maxQueued`; beyond the bound it drops the oldest telemetry first and keeps events.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../drivers/sdk/clock.js';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';

/** Uplink channels that go through the outbox (state and cmd-result do not: they are not sequenced). */
export type OutboxChannel = 'telemetry' | 'event' | 'media';

export interface OutboxMessage {
  /** Boot the message was produced in; a disk outbox may replay messages of an earlier boot. */
  readonly bootId: string;
  /** Position in the boot's single sequence space (telemetry, events and media together), from 0. */
  readonly seq: number;
  readonly channel: OutboxChannel;
  /** Body of the envelope without its header: `{ readings }`, `{ events }` or media metadata. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** Size of the JSON-encoded payload, for the byte gauge. */
  readonly bytes: number;
  /** ms since epoch, gateway clock, when the message entered the outbox. */
  readonly createdAt: number;
}

export interface Outbox {
  /** Boot id of this process: new messages get it, and only acks naming it count. */
  readonly bootId: string;
  /** Stores a message and assigns the next seq of the current boot. */
  append(channel: OutboxChannel, payload: Record<string, unknown>): OutboxMessage;
  /** Messages still held, in seq order, starting at `fromSeq` (inclusive) when given. */
  pending(fromSeq?: number): Iterable<OutboxMessage>;
  /** The message with this seq, if still held. */
  get(seq: number): OutboxMessage | undefined;
  /**
   * The hub made everything up to `seq` (inclusive) of `bootId` durable: delete it. An ack naming
   * another boot is ignored. Returns how many messages were deleted.
   */
  ack(bootId: string, seq: number): number;
  /** Messages held. */
  size(): number;
  /** Payload bytes held. */
  bytes(): number;
  /** Lowest seq still held; when nothing is held, the seq the next message will get. */
  firstUnacked(): number;
  /** Creation time of the oldest message held, undefined when empty. */
  oldestCreatedAt(): number | undefined;
  close(): Promise<void>;
}

/** Boot ids are time-ordered and unique enough across restarts of one gateway: `<base36 ms>-<12 hex>`. */
export function newBootId(clock: Clock): string {
  return `${clock.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

export interface MemoryOutboxOptions {
  bootId: string;
  /** Messages held at most; the oldest telemetry is dropped beyond it. */
  maxQueued: number;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
}

export class MemoryOutbox implements Outbox {
  readonly bootId: string;
  private readonly maxQueued: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Insertion order is seq order. */
  private readonly messages = new Map<number, OutboxMessage>();
  /** Seqs of droppable (non-event) messages in order; entries already acked are skipped lazily. */
  private droppable: number[] = [];
  private droppableHead = 0;
  private nextSeq = 0;
  private heldBytes = 0;
  private droppedInBurst = 0;
  private readonly dropped;

  constructor(opts: MemoryOutboxOptions) {
    this.bootId = opts.bootId;
    this.maxQueued = opts.maxQueued;
    this.clock = opts.clock;
    this.log = opts.log;
    this.dropped = opts.metrics.counter(
      'citygrid_edge_outbox_dropped_total',
      'Uplink messages dropped because the outbox was full, by channel.',
    );
  }

  append(channel: OutboxChannel, payload: Record<string, unknown>): OutboxMessage {
    const message: OutboxMessage = {
      bootId: this.bootId,
      seq: this.nextSeq++,
      channel,
      payload,
      bytes: Buffer.byteLength(JSON.stringify(payload)),
      createdAt: this.clock.now(),
    };
    this.messages.set(message.seq, message);
    this.heldBytes += message.bytes;
    if (channel !== 'event') this.droppable.push(message.seq);
    while (this.messages.size > this.maxQueued) this.dropOne();
    return message;
  }

  *pending(fromSeq = 0): Iterable<OutboxMessage> {
    for (const message of this.messages.values()) {
      if (message.seq >= fromSeq) yield message;
    }
  }

  get(seq: number): OutboxMessage | undefined {
    return this.messages.get(seq);
  }

  ack(bootId: string, seq: number): number {
    if (bootId !== this.bootId) return 0;
    let removed = 0;
    for (const message of this.messages.values()) {
      if (message.seq > seq) break;
      this.remove(message);
      removed++;
    }
    if (this.droppedInBurst > 0 && this.messages.size < this.maxQueued) {
      this.log.info({ dropped: this.droppedInBurst }, 'Outbox below its bound again');
      this.droppedInBurst = 0;
    }
    return removed;
  }

  size(): number {
    return this.messages.size;
  }

  bytes(): number {
    return this.heldBytes;
  }

  firstUnacked(): number {
    for (const message of this.messages.values()) return message.seq;
    return this.nextSeq;
  }

  oldestCreatedAt(): number | undefined {
    for (const message of this.messages.values()) return message.createdAt;
    return undefined;
  }

  async close(): Promise<void> {}

  private remove(message: OutboxMessage): void {
    this.messages.delete(message.seq);
    this.heldBytes -= message.bytes;
  }

  /** Drops the oldest telemetry (or media); only when nothing but events is held, the oldest event. */
  private dropOne(): void {
    let victim: OutboxMessage | undefined;
    while (this.droppableHead < this.droppable.length && !victim) {
      victim = this.messages.get(this.droppable[this.droppableHead++] as number);
    }
    if (this.droppableHead > 1024 && this.droppableHead * 2 > this.droppable.length) {
      this.droppable = this.droppable.slice(this.droppableHead);
      this.droppableHead = 0;
    }
    if (!victim) {
      // Events are kept before telemetry, but the bound is a promise about memory, so it holds for them too.
      victim = this.messages.values().next().value as OutboxMessage;
      this.log.error({ seq: victim.seq }, 'Outbox full of events, dropping the oldest event');
    }
    this.remove(victim);
    this.dropped.inc({ channel: victim.channel });
    if (this.droppedInBurst++ === 0) {
      this.log.warn({ maxQueued: this.maxQueued, channel: victim.channel }, 'Outbox full, dropping oldest telemetry');
    }
  }
}
