/**
 * Acknowledges to each gateway, on `cg/v1/<district>/<gateway>/cmd/ack`, the highest contiguous
 * seq the hub has made durable (DESIGN §4.2). Acks are coalesced per (gateway, boot): at most one per
 * `intervalMs` (default 50 ms), sooner when the watermark moved by `bigMoveSeqs` or more. Every
 * watermark is committed to the WatermarkStore BEFORE its ack goes out, so an ack never promises
 * what a restarted hub would not remember.
 */

import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { topics } from '../../../drivers/sdk/wire.js';
import type { BrokerLink } from '../broker/link.js';
import type { WatermarkStore } from './watermark-store.js';

export interface AckerOptions {
  intervalMs?: number;
  bigMoveSeqs?: number;
  now?: () => number;
}

interface AckState {
  district: string;
  gateway: string;
  bootId: string;
  watermark: number;
  persisted: number;
  sent: number;
  /** An ack is owed (watermark moved, or a duplicate asks for the current one again). */
  due: boolean;
  /** When this boot last asked for an ack; idle boots are forgotten. */
  touched: number;
}

/** A boot that asked for no ack for this long is forgotten (its watermark stays in the store). */
const IDLE_BOOT_MS = 10 * 60_000;

export class Acker {
  /**
   * Gateway -> boot id -> state. Nested rather than keyed by one `gateway + boot` string: request()
   * runs once per durable message, and building and hashing that key each time showed at one
   * reading per message.
   */
  private readonly states = new Map<string, Map<string, AckState>>();
  private timer: NodeJS.Timeout | undefined;
  /** The armed timer is an immediate one (a big move): nothing can make it sooner. */
  private timerImmediate = false;
  private readonly intervalMs: number;
  private readonly bigMoveSeqs: number;
  private readonly now: () => number;
  private readonly acksSent;
  private readonly persistFailures;
  private closed = false;

  constructor(
    private readonly link: BrokerLink,
    private readonly store: WatermarkStore,
    private readonly log: Logger,
    metrics: MetricsRegistry,
    opts: AckerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 50;
    this.bigMoveSeqs = opts.bigMoveSeqs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.acksSent = metrics.counter('citygrid_ingest_acks_sent_total', 'Acks published to gateways (coalesced).');
    this.persistFailures = metrics.counter(
      'citygrid_ingest_watermark_persist_failures_total',
      'Failed commits of ack watermarks (acks held back).',
    );
  }

  /**
   * Owes `gateway` an ack of `watermark` for `bootId`. `persisted` is what the store already holds
   * for that boot (a watermark loaded at start need not be written again).
   */
  request(district: string, gateway: string, bootId: string, watermark: number, persisted = -1): void {
    if (this.closed || watermark < 0) return;
    // Keyed by boot as well: an edge replaying an earlier boot's outbox while its new boot sends
    // live data needs both acks; one state per gateway let the newer request erase the older.
    let boots = this.states.get(gateway);
    if (!boots) {
      boots = new Map();
      this.states.set(gateway, boots);
    }
    let s = boots.get(bootId);
    if (!s) {
      s = { district, gateway, bootId, watermark, persisted, sent: -1, due: true, touched: 0 };
      boots.set(bootId, s);
    }
    s.touched = this.now();
    s.watermark = Math.max(s.watermark, watermark);
    s.due = true;
    // Measured from the last flush, not from the last ack the broker confirmed: until that PUBACK
    // arrives every further request would otherwise flush (and commit) again at once.
    if (s.watermark - Math.max(s.sent, s.persisted) >= this.bigMoveSeqs) this.schedule(0);
    else this.schedule(this.intervalMs);
  }

  /** Persists every moved watermark in one transaction, then publishes the owed acks. */
  flush(): void {
    this.timer = undefined;
    this.timerImmediate = false;
    const now = this.now();
    const due: AckState[] = [];
    for (const [gateway, boots] of this.states) {
      for (const [bootId, s] of boots) {
        if (s.due) due.push(s);
        else if (now - s.touched > IDLE_BOOT_MS) boots.delete(bootId);
      }
      if (boots.size === 0) this.states.delete(gateway);
    }
    if (due.length === 0) return;
    const toPersist = due.filter((s) => s.watermark > s.persisted);
    try {
      this.store.save(
        toPersist.map((s) => ({ gateway: s.gateway, bootId: s.bootId, watermark: s.watermark })),
        this.now(),
      );
    } catch (err) {
      this.persistFailures.inc();
      this.log.error({ err }, 'Watermark commit failed; acks held back');
      this.schedule(this.intervalMs * 20);
      return;
    }
    for (const s of toPersist) s.persisted = s.watermark;
    for (const s of due) {
      s.due = false;
      // While the link is down the ack would only queue up; the edge re-sends on reconnect and
      // its duplicate brings the current ack back.
      if (!this.link.connected()) continue;
      const ackedSeq = s.persisted;
      this.link.publish(topics.cmd(s, 'ack'), JSON.stringify({ bootId: s.bootId, seq: ackedSeq }), { qos: 1 }).then(
        () => {
          s.sent = Math.max(s.sent, ackedSeq);
          this.acksSent.inc();
        },
        (err: unknown) => this.log.warn({ gateway: s.gateway, err }, 'Ack publish failed'),
      );
    }
  }

  /** Sends what is owed and stops. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.closed = true;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer && (delayMs > 0 || this.timerImmediate)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerImmediate = delayMs === 0;
    this.timer = setTimeout(() => this.flush(), delayMs);
  }
}
