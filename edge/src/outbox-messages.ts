/**
 * The composed messages the outbox holds until the hub acknowledges them, in composition order
 * (earlier boots first): what the uplink replays on reconnect, which boots an ack may name, and
 * the lowest seq of a boot still held. The rows are in the `message` table (outbox-store.ts); this
 * is their in-memory index, loaded at open and kept in step by compose and ack.
 */
import type Database from 'libsql';
import type { OutboxChannel, OutboxMessage } from './outbox.js';

export class MessageBook {
  private readonly messages = new Map<number, OutboxMessage>();

  /** Loads the messages earlier boots composed and the hub has not acknowledged. */
  load(db: Database.Database): OutboxMessage[] {
    const rows = db
      .prepare('SELECT id, boot_id, seq, channel, count, bytes, taken_at FROM message ORDER BY id')
      .all() as {
      id: number;
      boot_id: string;
      seq: number;
      channel: OutboxChannel;
      count: number;
      bytes: number;
      taken_at: number;
    }[];
    for (const r of rows) {
      this.messages.set(r.id, {
        id: r.id,
        bootId: r.boot_id,
        seq: r.seq,
        channel: r.channel,
        lane: r.channel === 'event' ? 'event' : r.channel === 'media' ? 'media' : 'backlog',
        count: r.count,
        bytes: r.bytes,
        takenAt: r.taken_at,
      });
    }
    return [...this.messages.values()];
  }

  add(message: OutboxMessage): void {
    this.messages.set(message.id, message);
  }

  has(id: number): boolean {
    return this.messages.has(id);
  }

  get size(): number {
    return this.messages.size;
  }

  /** All held messages, in composition order. */
  all(): OutboxMessage[] {
    return [...this.messages.values()];
  }

  /** The first message composed, if any. */
  first(): OutboxMessage | undefined {
    return this.messages.values().next().value as OutboxMessage | undefined;
  }

  /** Readings and events carried by held messages. */
  items(): number {
    let n = 0;
    for (const m of this.messages.values()) n += m.count;
    return n;
  }

  holdsBoot(bootId: string): boolean {
    for (const m of this.messages.values()) if (m.bootId === bootId) return true;
    return false;
  }

  /** Held messages of `bootId` up to `seq` (inclusive). */
  covered(bootId: string, seq: number): OutboxMessage[] {
    return [...this.messages.values()].filter((m) => m.bootId === bootId && m.seq <= seq);
  }

  /** How many messages of `bootId` are held. */
  countOf(bootId: string): number {
    return [...this.messages.values()].filter((m) => m.bootId === bootId).length;
  }

  delete(id: number): void {
    this.messages.delete(id);
  }

  /** Lowest seq of `bootId` held, undefined when none. */
  lowestSeq(bootId: string): number | undefined {
    let lowest: number | undefined;
    for (const m of this.messages.values())
      if (m.bootId === bootId && (lowest === undefined || m.seq < lowest)) lowest = m.seq;
    return lowest;
  }
}
