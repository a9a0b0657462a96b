/**
 * Composing uplink messages from the outbox's items, inside the caller's transaction: the items
 * move into the message body and the boot's next seq is stored, so the composition is on disk
 * before the message is sent. Events first, then the live lane (when its batch is full, its
 * oldest reading has waited maxDelay, or the agent is stopping), then the backlog, oldest first,
 * in messages as large as maxReadings allows. Evidence goes one item per message, after live
 * telemetry and before the backlog, at most `plan.mediaSlots` at a time: an operator waits on a
 * capture, but a clip of a few MB must not hold live readings behind it.
 */
import type { ComposePlan, OutboxChannel, OutboxLane, OutboxMessage } from './outbox.js';
import { ITEM_EVENT, ITEM_MEDIA, ITEM_READING, ROW_OVERHEAD } from './outbox-quota.js';
import { type Lanes, type OutboxStatements, scalar } from './outbox-store.js';

export interface ComposeContext {
  stmt: OutboxStatements;
  bootId: string;
  maxReadings: number;
  maxDelay: number;
  maxMessageBytes: number;
  now: number;
}

export interface Composed {
  messages: OutboxMessage[];
  lanes: Lanes;
  nextSeq: number;
  /** Change of the bytes held (message rows replace item rows). */
  heldDelta: number;
}

interface LaneRow {
  id: number;
  at: number;
  bytes: number;
  body: string | Buffer;
}

/** Run inside a transaction; the caller applies the result only once it committed. */
export function composeMessages(ctx: ComposeContext, plan: ComposePlan, lanes: Lanes, firstSeq: number): Composed {
  const { stmt, bootId, maxReadings, maxDelay, maxMessageBytes, now } = ctx;
  const l = { ...lanes };
  const messages: OutboxMessage[] = [];
  let nextSeq = firstSeq;
  let heldDelta = 0;
  const composeMedia = (): boolean => {
    const row = (stmt.lane.all(ITEM_MEDIA, 0, Number.MAX_SAFE_INTEGER, 1) as LaneRow[])[0];
    if (!row) return false;
    stmt.deleteRange.run(ITEM_MEDIA, row.id, row.id);
    const seq = nextSeq++;
    // libsql returns a BLOB as an ArrayBuffer, and binds only Buffers.
    const body = Buffer.from(row.body as unknown as ArrayBuffer);
    const id = Number(stmt.insertMessage.run(bootId, seq, 'media', 1, row.bytes, row.at, body).lastInsertRowid);
    messages.push({ id, bootId, seq, channel: 'media', lane: 'media', count: 1, bytes: row.bytes, takenAt: row.at });
    l.media -= 1;
    return true;
  };
  const composeOne = (kind: number, lane: OutboxLane, after: number, upTo: number): boolean => {
    const rows = stmt.lane.all(kind, after, upTo, maxReadings) as LaneRow[];
    if (rows.length === 0) return false;
    const parts: string[] = [];
    let bytes = 2;
    let takenAt = Number.POSITIVE_INFINITY;
    let lastId = 0;
    for (const row of rows) {
      if (typeof row.body !== 'string') break;
      if (parts.length > 0 && bytes + row.bytes + 1 > maxMessageBytes) break;
      parts.push(row.body);
      bytes += row.bytes + (parts.length > 1 ? 1 : 0);
      takenAt = Math.min(takenAt, row.at);
      lastId = row.id;
      heldDelta -= row.bytes + ROW_OVERHEAD;
    }
    const body = `[${parts.join(',')}]`;
    const channel: OutboxChannel = kind === ITEM_EVENT ? 'event' : 'telemetry';
    stmt.deleteRange.run(kind, (rows[0] as LaneRow).id, lastId);
    const seq = nextSeq++;
    const id = Number(stmt.insertMessage.run(bootId, seq, channel, parts.length, bytes, takenAt, body).lastInsertRowid);
    heldDelta += bytes + ROW_OVERHEAD;
    messages.push({ id, bootId, seq, channel, lane, count: parts.length, bytes, takenAt });
    if (lane === 'event') l.events -= parts.length;
    else if (lane === 'backlog') l.backlog -= parts.length;
    else {
      l.live -= parts.length;
      l.liveOldestAt = l.live > 0 ? (scalar(stmt.firstAt, ITEM_READING, lastId) as number) : undefined;
    }
    return true;
  };
  const liveDue = () =>
    l.live > 0 && (plan.flushLive || l.live >= maxReadings || now - (l.liveOldestAt ?? now) >= maxDelay);
  let slots = plan.slots;
  let backlogSlots = plan.backlogSlots;
  let mediaSlots = plan.mediaSlots ?? 0;
  while (slots > 0 && l.events > 0 && composeOne(ITEM_EVENT, 'event', 0, Number.MAX_SAFE_INTEGER)) slots--;
  while (slots > 0 && liveDue() && composeOne(ITEM_READING, 'live', l.backlogEnd, Number.MAX_SAFE_INTEGER)) slots--;
  while (slots > 0 && mediaSlots > 0 && l.media > 0 && composeMedia()) {
    slots--;
    mediaSlots--;
  }
  while (slots > 0 && backlogSlots > 0 && l.backlog > 0 && composeOne(ITEM_READING, 'backlog', 0, l.backlogEnd)) {
    slots--;
    backlogSlots--;
  }
  if (messages.length > 0) stmt.nextSeq.run(nextSeq, bootId);
  return { messages, lanes: l, nextSeq, heldDelta };
}
