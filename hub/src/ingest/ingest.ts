/**
 * Hub ingest (DESIGN §2, §4.2, §6): every uplink message is size-checked, parsed, validated with
 * the wire schemas and matched against its topic; refused ones get a RejectedMessageError, a
 * counter and one warn line, and the ingest goes on. Accepted telemetry is deduplicated by
 * (gateway, bootId, seq), published on the live bus, and handed to the telemetry writer; its seq
 * is acknowledged to the gateway only once the writer reports the points durable.
 *
 * Events share the gateway's seq space and the same path: they are stored as points of the
 * `event` measurement and acknowledged only once the store has them, like readings. Dedup, gap
 * accounting and acks per gateway boot are in admission.ts.
 */
import type { z } from 'zod';
import { RejectedMessageError } from '../../../drivers/sdk/errors.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import { decodeMediaPayload, MediaWireError } from '../../../drivers/sdk/media-wire.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { CityEvent, Reading } from '../../../drivers/sdk/reading.js';
import {
  type EventEnvelope,
  eventEnvelopeSchema,
  healthMessageSchema,
  parseTopic,
  stateMessageSchema,
  type TelemetryEnvelope,
  telemetryEnvelopeSchema,
  topics,
  UPLINK_CHANNELS,
  type UplinkChannel,
} from '../../../drivers/sdk/wire.js';
import type { BrokerLink } from '../broker/link.js';
import type { EvidenceAccept } from '../evidence/service.js';
import type { LiveBus } from '../live/bus.js';
import { eventToPoint, ReadingPoint } from '../telemetry/point-mapping.js';
import type { TelemetryWriter } from '../telemetry/types.js';
import { Admission, type Origin } from './admission.js';
import { isPlainTelemetryEnvelope } from './envelope-check.js';
import type { GatewayRegistry } from './gateways.js';
import type { SeqTracker } from './seq-tracker.js';
import type { WatermarkStore } from './watermark-store.js';

export interface IngestOptions {
  link: BrokerLink;
  /**
   * `saturated` (BatchingTelemetryWriter) makes the ingest hold deliveries while true, until
   * `whenUnsaturated` resolves (polled when the writer has none).
   */
  writer: TelemetryWriter & { readonly saturated?: boolean; whenUnsaturated?: () => Promise<void> };
  watermarks: WatermarkStore;
  registry: GatewayRegistry;
  bus: LiveBus;
  log: Logger;
  metrics: MetricsRegistry;
  /** Grid cell of a reading given its (reading's or inventory) asset; see geo.ts gridResolver. */
  /** Grid cell of an asset, or of a reading's position (events have no position: pass undefined). */
  resolveGrid: (reading: Reading | undefined, asset?: string) => string | undefined;
  /** Larger payloads are refused as `too-large`. */
  maxPayloadBytes: number;
  /**
   * Accept gateways the city config does not list (external broker without a city, the bench).
   * With the embedded broker the ACL already keeps unknown gateways out.
   */
  acceptUnknownGateways: boolean;
  /**
   * Stores a media message durably (evidence/service.ts); its seq is acknowledged once it resolves.
   * Without it, media messages are refused as `bad-topic`.
   */
  evidence?: EvidenceAccept;
  /** Channels to subscribe to. Default telemetry, event, state (the hub adds media and health). */
  channels?: readonly UplinkChannel[];
  /**
   * Called with each message's readings or placed events once the store has them durable, before
   * the ack is requested (the case core's feed). Must only queue the work: it runs on the ack path.
   */
  onStored?: (stored: StoredItems) => void;
  ackIntervalMs?: number;
  now?: () => number;
}

/** What a stored message carried: its placed readings, or its events with asset and grid resolved. */
export type StoredItems =
  | { readings: readonly ReadingPoint[] }
  | { events: readonly { event: CityEvent; district: string; asset?: string; grid?: string }[] };

/** Parsed uplink topics kept (one per gateway and channel in practice); the cache starts over beyond. */
const TOPICS_CACHED = 4096;

export class Ingest {
  /** Dedup, gap accounting and acks per gateway boot. */
  private readonly admission: Admission;
  /** Topic -> its parsed origin: parsing (split + regex) showed per message at one reading per message. */
  private readonly origins = new Map<string, Origin>();
  /**
   * Messages and readings of the current turn of the event loop, added to their counters once per
   * turn: Counter.inc builds a label key (keys, sort, escapes) per call, ~6 % of the hub's CPU at
   * one reading per message. A scrape sees them at most one turn late.
   */
  private readonly uncountedMessages = Object.fromEntries(UPLINK_CHANNELS.map((c) => [c, 0])) as Record<
    UplinkChannel,
    number
  >;
  private uncountedReadings = 0;
  private countsDue: NodeJS.Immediate | undefined;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly messagesIn;
  private readonly readingsIn;
  private readonly rejected;
  private readonly evidenceRefused;

  constructor(private readonly o: IngestOptions) {
    this.now = o.now ?? Date.now;
    this.log = o.log;
    this.admission = new Admission({ ...o, now: this.now });
    const m = o.metrics;
    this.messagesIn = m.counter(
      'citygrid_ingest_messages_total',
      'Uplink messages received, by channel (before validation).',
    );
    this.readingsIn = m.counter(
      'citygrid_ingest_readings_total',
      'Readings accepted (not duplicates) and handed to the telemetry sink.',
    );
    this.rejected = m.counter('citygrid_ingest_rejected_total', 'Uplink messages refused, by reason and gateway.');
    this.evidenceRefused = m.counter(
      'citygrid_hub_evidence_refused_total',
      'Media messages refused, by reason (bad-frame, bad-header, size-mismatch, checksum-mismatch, too-large, ...).',
    );
  }

  /** Subscribes the handlers on the broker link. */
  async start(): Promise<void> {
    for (const channel of this.o.channels ?? (['telemetry', 'event', 'state'] as const)) {
      await this.o.link.subscribe(topics.uplinkFilter(channel), (topic, payload) => {
        this.handle(topic, payload);
        // While the sink is saturated, hold further deliveries: the backlog stays in the broker /
        // the edge outboxes instead of the hub's memory.
        return this.o.writer.saturated === true ? this.untilUnsaturated() : undefined;
      });
    }
  }

  /** Handles one message; never throws for bad input. Returns the rejection, if any (for tests). */
  handle(topic: string, payload: Buffer): RejectedMessageError | undefined {
    const origin = this.origins.get(topic) ?? this.parseOrigin(topic);
    if (origin === undefined)
      return this.reject(undefined, topic, new RejectedMessageError('bad-topic', 'not an uplink topic'));
    this.uncountedMessages[origin.channel] += 1;
    this.countsDue ??= setImmediate(this.addCounts);
    try {
      this.checkGateway(origin);
      if (payload.length > this.o.maxPayloadBytes) {
        throw new RejectedMessageError(
          'too-large',
          `payload of ${payload.length} bytes exceeds ${this.o.maxPayloadBytes}`,
        );
      }
      if (origin.channel === 'media') {
        this.onMedia(origin, payload);
        return undefined;
      }
      const body = parseJson(payload);
      if (origin.channel === 'telemetry')
        this.onTelemetry(origin, validate(telemetryEnvelopeSchema, body, origin, isPlainTelemetryEnvelope));
      else if (origin.channel === 'event') this.onEvents(origin, validate(eventEnvelopeSchema, body, origin));
      else if (origin.channel === 'state') this.onState(origin, validate(stateMessageSchema, body, origin));
      else if (origin.channel === 'health')
        this.o.registry.applyHealth(
          origin.gateway,
          origin.district,
          validate(healthMessageSchema, body, origin),
          this.now(),
        );
      return undefined;
    } catch (err) {
      if (err instanceof RejectedMessageError) return this.reject(origin, topic, err);
      throw err;
    }
  }

  private readonly addCounts = (): void => {
    if (this.countsDue) clearImmediate(this.countsDue);
    this.countsDue = undefined;
    for (const channel of UPLINK_CHANNELS) {
      const n = this.uncountedMessages[channel];
      if (n > 0) this.messagesIn.inc({ channel }, n);
      this.uncountedMessages[channel] = 0;
    }
    if (this.uncountedReadings > 0) this.readingsIn.inc({}, this.uncountedReadings);
    this.uncountedReadings = 0;
  };

  private parseOrigin(topic: string): Origin | undefined {
    const parsed = parseTopic(topic);
    if (parsed?.type !== 'uplink') return undefined;
    const { district, gateway, channel } = parsed;
    const origin: Origin = { district, gateway, channel, topic };
    if (this.origins.size >= TOPICS_CACHED) this.origins.clear();
    this.origins.set(topic, origin);
    return origin;
  }

  private untilUnsaturated(): Promise<void> {
    if (this.o.writer.whenUnsaturated) return this.o.writer.whenUnsaturated();
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        if (this.o.writer.saturated) return;
        clearInterval(poll);
        resolve();
      }, 20);
    });
  }

  /** The tracker of one boot, when the hub has one (tests, /api/gateways). */
  tracker(gateway: string, bootId: string): SeqTracker | undefined {
    return this.admission.tracker(gateway, bootId);
  }

  /** Sends the acks still owed and stops acknowledging. Call after the writer drained. */
  close(): void {
    this.addCounts();
    this.admission.close();
  }

  private checkGateway(origin: Origin): void {
    const district = this.o.registry.districtOf(origin.gateway);
    if (district === undefined) {
      if (!this.o.acceptUnknownGateways)
        throw new RejectedMessageError('unknown-gateway', 'gateway not in the city config');
    } else if (district !== origin.district) {
      throw new RejectedMessageError('bad-topic', `gateway belongs to district ${district}`);
    }
  }

  private onTelemetry(origin: Origin, env: TelemetryEnvelope): void {
    const receivedAt = this.now();
    const boot = this.admission.admit(origin, env, receivedAt);
    if (!boot) return;
    const { district, gateway } = origin;
    const readings = env.readings;
    const points = new Array<ReadingPoint>(readings.length);
    const registry = this.o.registry;
    const bus = this.o.bus;
    for (let i = 0; i < readings.length; i++) {
      const reading = readings[i] as Reading;
      const asset = registry.sawReading(gateway, district, reading.device, reading.kind, reading.asset, receivedAt);
      const grid = this.o.resolveGrid(reading, asset);
      // The stored point is also the live bus' LiveReading: one object per reading.
      const point = new ReadingPoint(reading, district, gateway, asset, grid, receivedAt);
      points[i] = point;
      bus.emit('reading', point);
    }
    this.uncountedReadings += readings.length;
    const seq = env.seq;
    this.o.writer.submit(points, () => {
      this.o.onStored?.({ readings: points });
      this.admission.durable(origin, boot, seq);
    });
  }

  private onEvents(origin: Origin, env: EventEnvelope): void {
    const receivedAt = this.now();
    const boot = this.admission.admit(origin, env, receivedAt);
    if (!boot) return;
    const { district, gateway } = origin;
    const placed: { event: CityEvent; district: string; asset?: string; grid?: string }[] = [];
    const points = env.events.map((event) => {
      this.o.bus.emit('event', { event, district, gateway, receivedAt });
      const asset = event.asset ?? this.o.registry.assetOf(event.device);
      const grid = asset ? this.o.resolveGrid(undefined, asset) : undefined;
      placed.push({ event, district, ...(asset ? { asset } : {}), ...(grid ? { grid } : {}) });
      return eventToPoint(asset && !event.asset ? { ...event, asset } : event, { district, gateway, grid });
    });
    const seq = env.seq;
    this.o.writer.submit(points, () => {
      this.o.onStored?.({ events: placed });
      this.admission.durable(origin, boot, seq);
    });
  }

  /** Evidence: one item per message, acknowledged once the store has it on disk. */
  private onMedia(origin: Origin, payload: Buffer): void {
    const accept = this.o.evidence;
    if (!accept) throw new RejectedMessageError('bad-topic', 'this hub stores no evidence');
    let media: ReturnType<typeof decodeMediaPayload>;
    try {
      media = decodeMediaPayload(payload);
    } catch (err) {
      if (err instanceof MediaWireError)
        throw new RejectedMessageError('bad-envelope', `${err.reason}: ${err.message}`, { cause: err });
      throw err;
    }
    if (media.header.gateway !== origin.gateway)
      throw new RejectedMessageError('gateway-mismatch', `envelope names gateway ${media.header.gateway}`);
    const boot = this.admission.admit(origin, media.header, this.now());
    if (!boot) return;
    const seq = media.header.seq;
    accept(origin, media).then(
      () => {
        this.admission.durable(origin, boot, seq);
      },
      // Not stored: forget the seq, so the edge's re-send is taken instead of dropped as a duplicate.
      () => boot.tracker.forget(seq),
    );
  }

  private onState(origin: Origin, state: z.infer<typeof stateMessageSchema>): void {
    const applied = this.o.registry.applyState(origin.district, state, this.now());
    if (!applied) return;
    if (state.state === 'online') this.log.info({ gateway: origin.gateway, bootId: state.bootId }, 'Gateway online');
    else this.log.warn({ gateway: origin.gateway, bootId: state.bootId }, 'Gateway offline');
    this.o.bus.emit('gateway', {
      gateway: origin.gateway,
      district: origin.district,
      online: state.state === 'online',
      bootId: state.bootId,
      ts: state.ts,
    });
  }

  private reject(origin: Origin | undefined, topic: string, err: RejectedMessageError): RejectedMessageError {
    const gateway = origin?.gateway ?? '';
    this.rejected.inc({ reason: err.reason, gateway });
    if (origin?.channel === 'media')
      this.evidenceRefused.inc({ reason: err.cause instanceof MediaWireError ? err.cause.reason : err.reason });
    const view = origin ? this.o.registry.get(origin.gateway) : undefined;
    if (view) view.rejected++;
    this.log.warn({ gateway, topic, reason: err.reason, detail: err.message }, 'Uplink message rejected');
    return err;
  }
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new RejectedMessageError('bad-json', 'payload is not JSON', { cause: err });
  }
}

/**
 * `schema`'s output for `body`, or a `bad-envelope` rejection. `plain`, when given, is a fast check
 * that accepts only bodies the schema would return unchanged (see envelope-check.ts); the rest
 * goes through zod.
 */
function validate<S extends z.ZodType<{ gateway: string }>>(
  schema: S,
  body: unknown,
  origin: Origin,
  plain?: (body: unknown) => body is z.output<S>,
): z.output<S> {
  let data: z.output<S>;
  if (plain?.(body)) data = body;
  else {
    const result = schema.safeParse(body);
    if (!result.success) {
      const first = result.error.issues[0];
      const where = first?.path.length ? first.path.join('.') : '(root)';
      throw new RejectedMessageError('bad-envelope', `${where}: ${first?.message ?? 'invalid'}`);
    }
    data = result.data;
  }
  if (data.gateway !== origin.gateway) {
    throw new RejectedMessageError('gateway-mismatch', `envelope names gateway ${data.gateway}`);
  }
  return data;
}
