/**
 * Admission of sequenced uplink messages (telemetry, events, evidence share one seq space per
 * gateway boot): a SeqTracker per (gateway, boot) drops duplicates of (gateway, bootId, seq) and
 * counts gaps and late arrivals; a seq is acknowledged to the gateway (acker.ts) once it is
 * durable and every seq before it is. The gateway view (/api/gateways) follows the watermark.
 */
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { UplinkChannel } from '../../../drivers/sdk/wire.js';
import type { BrokerLink } from '../broker/link.js';
import { Acker } from './acker.js';
import type { GatewayRegistry } from './gateways.js';
import { SeqTracker } from './seq-tracker.js';
import type { WatermarkStore } from './watermark-store.js';

/** Where an uplink message came from: its parsed topic. */
export interface Origin {
  district: string;
  gateway: string;
  channel: UplinkChannel;
  topic: string;
}

export interface BootTracker {
  bootId: string;
  tracker: SeqTracker;
  /** Watermark loaded from the store when the tracker was created (-1: none). */
  loaded: number;
}

/** Boots per gateway whose trackers are kept (a late re-send of the previous boot is still deduplicated). */
const BOOTS_KEPT = 3;

export class Admission {
  private readonly boots = new Map<string, BootTracker[]>();
  private readonly acker: Acker;
  private readonly duplicates;
  private readonly gaps;
  private readonly late;

  constructor(
    private readonly o: {
      link: BrokerLink;
      watermarks: WatermarkStore;
      registry: GatewayRegistry;
      log: Logger;
      metrics: MetricsRegistry;
      ackIntervalMs?: number;
      now: () => number;
    },
  ) {
    this.acker = new Acker(o.link, o.watermarks, o.log, o.metrics, { intervalMs: o.ackIntervalMs, now: o.now });
    const m = o.metrics;
    this.duplicates = m.counter(
      'citygrid_ingest_duplicates_total',
      'Uplink messages dropped as duplicates of (gateway, bootId, seq), by gateway.',
    );
    this.gaps = m.counter(
      'citygrid_ingest_gaps_total',
      'Seqs skipped over by arriving messages (missing at the time), by gateway.',
    );
    this.late = m.counter('citygrid_ingest_late_total', 'Messages that filled an earlier gap, by gateway.');
  }

  /** Dedup and gap accounting; returns the boot's tracker when the message is new. */
  admit(
    origin: Origin,
    env: { bootId: string; seq: number; firstUnacked?: number },
    now: number,
  ): BootTracker | undefined {
    const view = this.o.registry.touch(origin.gateway, origin.district, now);
    const boot = this.bootTracker(origin.gateway, env.bootId);
    const before = boot.tracker.watermark;
    const result = boot.tracker.receive(env.seq, env.firstUnacked);
    if (view.bootId === env.bootId) view.watermark = boot.tracker.watermark;
    if (boot.tracker.watermark !== before) this.requestAck(origin, boot);
    if (result.kind === 'duplicate') {
      this.duplicates.inc({ gateway: origin.gateway });
      view.duplicates++;
      this.o.log.debug({ gateway: origin.gateway, bootId: env.bootId, seq: env.seq }, 'Duplicate dropped');
      // The edge re-sent something already stored: it missed the ack, so send the current one again.
      if (result.acked) this.requestAck(origin, boot);
      return undefined;
    }
    if (result.gaps > 0) {
      this.gaps.inc({ gateway: origin.gateway }, result.gaps);
      view.gaps += result.gaps;
      this.o.log.info(
        { gateway: origin.gateway, bootId: env.bootId, seq: env.seq, missing: result.gaps },
        'Sequence gap',
      );
    }
    if (result.late) this.late.inc({ gateway: origin.gateway });
    return boot;
  }

  /** `seq` of `boot` is stored: acknowledge it once every seq before it is too. */
  durable(origin: Origin, boot: BootTracker, seq: number): void {
    if (boot.tracker.markDurable(seq)) this.requestAck(origin, boot);
  }

  /** The tracker of one boot, when the hub has one (tests, /api/gateways). */
  tracker(gateway: string, bootId: string): SeqTracker | undefined {
    return this.boots.get(gateway)?.find((b) => b.bootId === bootId)?.tracker;
  }

  /** Sends the acks still owed and stops acknowledging. */
  close(): void {
    this.acker.close();
  }

  private requestAck(origin: Origin, boot: BootTracker): void {
    const view = this.o.registry.get(origin.gateway);
    if (view && view.bootId === boot.bootId) view.watermark = boot.tracker.watermark;
    this.acker.request(origin.district, origin.gateway, boot.bootId, boot.tracker.watermark, boot.loaded);
  }

  private bootTracker(gateway: string, bootId: string): BootTracker {
    let list = this.boots.get(gateway);
    if (!list) {
      list = [];
      this.boots.set(gateway, list);
    }
    for (const b of list) if (b.bootId === bootId) return b;
    const loaded = this.o.watermarks.get(gateway, bootId) ?? -1;
    const boot: BootTracker = { bootId, tracker: new SeqTracker(loaded), loaded };
    list.unshift(boot);
    if (list.length > BOOTS_KEPT) list.length = BOOTS_KEPT;
    // The gateway's state message names its current boot; a replay of an earlier boot must not
    // take that over (it would show the old boot in /api/gateways until the next state message).
    const view = this.o.registry.get(gateway);
    if (view && view.bootId === undefined) {
      view.bootId = bootId;
      view.watermark = loaded;
    }
    return boot;
  }
}
