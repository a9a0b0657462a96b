/**
 * The MQTT side of the edge: one MQTT.js client per gateway. It publishes the retained birth
 * state on every connect (the broker publishes the offline last will when the link dies), sends
 * outbox messages with at most `maxInFlight` awaiting the hub's end-to-end ack, and deletes a
 * message only when that ack (on `cmd/ack`, naming the message's boot) covers it. A PUBACK proves
 * nothing: aedes sends it before anything is stored. While disconnected nothing is composed or
 * handed to MQTT.js (whose offline queue is unbounded); the outbox holds everything.
 *
 * Replay order on (re)connect: messages composed earlier (an earlier boot's, or in flight when the
 * link dropped; events first), then new ones: events, then live telemetry, then the backlog in
 * large messages, oldest first. At most `backlogInFlight` backlog messages are on the wire at once:
 * enough to keep the hub busy, few enough that a live reading or an alarm never queues behind
 * an outage's worth of backlog at the broker or the hub; the rest of the window is live data's.
 * Evidence (media-wire.ts frames, one item per message) has a lane of its own with at most
 * MEDIA_IN_FLIGHT items on the wire: live readings never queue behind more than two items in
 * the socket, and the link does not idle while the hub's ack of the previous one comes back.
 * The window and its lane caps are in uplink-window.ts; commands other than `ack` in
 * uplink-commands.ts.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../../drivers/sdk/clock.js';
import { describeError } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import {
  ackMessageSchema,
  type DeviceInventoryItem,
  type GatewayAddress,
  type HealthMessage,
  parseTopic,
  type StateMessage,
  topics,
} from '../../drivers/sdk/wire.js';
import type { Outbox, OutboxMessage } from './outbox.js';
import { type CommandHandler, CommandRouter } from './uplink-commands.js';
import { uplinkPayload } from './uplink-payload.js';
import { SendWindow } from './uplink-window.js';

export type { CommandHandler } from './uplink-commands.js';

/** How often recorded outbox losses are turned into `outbox.loss` events while connected. */
const LOSS_REPORT_EVERY_MS = 1000;

export interface UplinkOptions {
  url: string;
  address: GatewayAddress;
  password: string;
  /** Seconds. */
  keepalive: number;
  /** ms between reconnect attempts. */
  reconnectPeriod: number;
  /** ms after which a message the hub has not acknowledged is sent again. */
  resendAfter: number;
  maxInFlight: number;
  /** Backlog messages on the wire at most (fewer than maxInFlight). */
  backlogInFlight: number;
  version: string;
  outbox: Outbox;
  inventory: () => DeviceInventoryItem[];
  /** What `.../health` reports (outbox backlog, devices), and how often; none: no health reports. */
  health?: { every: number; report: () => Pick<HealthMessage, 'outbox' | 'devices' | 'devicesOnline'> };
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
}

export class Uplink {
  private client: MqttClient | undefined;
  private isConnected = false;
  private stopping = false;
  /** Messages on the wire until the hub acknowledges them, and the replay of this connection. */
  private readonly window: SendWindow;
  /** Stopping: compose the live lane without waiting for maxDelay. */
  private flushing = false;
  private lastLossReport = 0;
  /** The backlog being replayed since the link came up: for the "Backlog replayed" log line. */
  private replaying: { since: number; readings: number; messages: number } | undefined;
  private resendTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private liveTimer: NodeJS.Timeout | undefined;
  private disconnectedSince: number | undefined;
  private lastError: string | undefined;
  private readonly commands: CommandRouter;
  private readonly sent;
  private readonly resent;
  private readonly acked;
  private readonly itemsAcked;
  private readonly acksIgnored;
  private readonly connects;
  private readonly evidenceAcked;
  private readonly evidenceAckedBytes;

  constructor(private readonly opts: UplinkOptions) {
    this.window = new SendWindow(opts.maxInFlight, opts.backlogInFlight);
    const m = opts.metrics;
    this.sent = m.counter(
      'citygrid_edge_messages_sent_total',
      'Uplink messages put on the wire for the first time, by channel.',
    );
    this.resent = m.counter(
      'citygrid_edge_messages_resent_total',
      'Uplink messages sent again (no hub ack in time, or reconnect).',
    );
    this.acked = m.counter('citygrid_edge_messages_acked_total', 'Uplink messages the hub acknowledged as stored.');
    this.itemsAcked = m.counter(
      'citygrid_edge_items_acked_total',
      'Readings and events the hub acknowledged as stored (deleted from the outbox).',
    );
    this.acksIgnored = m.counter('citygrid_edge_acks_ignored_total', 'Hub acks ignored, by reason.');
    this.connects = m.counter('citygrid_edge_mqtt_connects_total', 'Successful MQTT connections.');
    this.commands = new CommandRouter(m, opts.log);
    this.evidenceAcked = m.counter(
      'citygrid_edge_evidence_acked_total',
      'Evidence items the hub acknowledged as stored (deleted from the outbox).',
    );
    this.evidenceAckedBytes = m.counter(
      'citygrid_edge_evidence_acked_bytes_total',
      'Bytes of evidence items (data and thumbnail, with their frame header) the hub acknowledged.',
    );
    m.gauge('citygrid_edge_mqtt_connected', '1 while connected to the hub broker.', (g) =>
      g.set({}, this.isConnected ? 1 : 0),
    );
    m.gauge('citygrid_edge_in_flight', 'Messages sent and awaiting the hub ack.', (g) => g.set({}, this.window.size));
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get inFlightCount(): number {
    return this.window.size;
  }

  registerCommand(name: string, handler: CommandHandler): void {
    this.commands.register(name, handler);
  }

  start(): void {
    const { address, opts } = { address: this.opts.address, opts: this.opts };
    const options: IClientOptions = {
      clientId: address.gateway,
      username: address.gateway,
      password: opts.password,
      clean: false,
      protocolVersion: 4,
      keepalive: opts.keepalive,
      reconnectPeriod: opts.reconnectPeriod,
      connectTimeout: Math.max(5000, opts.reconnectPeriod * 2),
      reconnectOnConnackError: true,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: topics.state(address), payload: Buffer.from(this.stateJson('offline')), qos: 1, retain: true },
    };
    const client = connect(opts.url, options);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onDisconnect());
    client.on('reconnect', () => {
      // The will is sent with each CONNECT: stamp it with the time of this attempt.
      if (client.options.will) client.options.will.payload = Buffer.from(this.stateJson('offline'));
    });
    client.on('error', (err) => {
      const text = describeError(err);
      if (text !== this.lastError) opts.log.warn({ err: text }, 'MQTT error');
      this.lastError = text;
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    const tick = Math.max(50, Math.min(1000, Math.floor(opts.resendAfter / 4)));
    this.resendTimer = setInterval(() => this.resendOverdue(), tick);
    if (opts.health) this.healthTimer = setInterval(() => this.publishHealth(), opts.health.every);
  }

  /** New messages are in the outbox: send what the in-flight window allows. */
  notify(): void {
    this.pump();
  }

  /** Republishes the retained online state (the inventory changed). */
  publishState(): void {
    if (!this.isConnected || this.stopping || !this.client) return;
    this.client.publish(topics.state(this.opts.address), this.stateJson('online'), { qos: 1, retain: true }, (err) => {
      if (err) this.opts.log.debug({ err: describeError(err) }, 'State publish failed');
    });
  }

  /** Reports the outbox backlog on `.../health` (QoS 0, retained: each report replaces the last). */
  private publishHealth(): void {
    const health = this.opts.health;
    if (!health || !this.isConnected || this.stopping || !this.client) return;
    const message: HealthMessage = {
      v: 1,
      gateway: this.opts.address.gateway,
      bootId: this.opts.outbox.bootId,
      ts: this.opts.clock.now(),
      ...health.report(),
    };
    // Retained: a hub that subscribes later (starting up) still gets the last report at once.
    this.client.publish(topics.health(this.opts.address), JSON.stringify(message), { qos: 0, retain: true });
  }

  /** Sends even the live readings that have not waited maxDelay; waits until the outbox is empty, the link is down, or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.opts.clock.now() + timeoutMs;
    this.flushing = true;
    while (this.opts.outbox.stats().items > 0 && this.isConnected && this.opts.clock.now() < deadline) {
      this.pump();
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.opts.outbox.stats().items === 0;
  }

  /** Publishes the retained offline state when connected, then disconnects. Nothing is published after. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.resendTimer) clearInterval(this.resendTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    if (this.liveTimer) clearTimeout(this.liveTimer);
    const client = this.client;
    if (!client) return;
    if (this.isConnected) {
      try {
        await client.publishAsync(topics.state(this.opts.address), this.stateJson('offline'), { qos: 1, retain: true });
      } catch (err) {
        this.opts.log.debug({ err: describeError(err) }, 'Offline state publish failed');
      }
    }
    await client.endAsync(!this.isConnected);
    this.isConnected = false;
    this.opts.log.info('MQTT closed');
  }

  /** Age in ms of the oldest message not yet acknowledged, 0 when none. */
  oldestUnackedAge(): number {
    const oldest = this.opts.outbox.oldestTakenAt();
    return oldest === undefined ? 0 : Math.max(0, this.opts.clock.now() - oldest);
  }

  private stateJson(state: 'online' | 'offline'): string {
    const message: StateMessage = {
      v: 1,
      gateway: this.opts.address.gateway,
      state,
      bootId: this.opts.outbox.bootId,
      ts: this.opts.clock.now(),
      version: this.opts.version,
      ...(state === 'online' ? { devices: this.opts.inventory() } : {}),
    };
    return JSON.stringify(message);
  }

  private onConnect(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    this.isConnected = true;
    this.lastError = undefined;
    this.connects.inc();
    const downFor = this.disconnectedSince === undefined ? undefined : this.opts.clock.now() - this.disconnectedSince;
    this.disconnectedSince = undefined;
    this.opts.log.info({ url: this.opts.url, downFor, ...this.opts.outbox.stats() }, 'Connected');
    this.publishState();
    client.subscribe({ [topics.cmdFilter(this.opts.address)]: { qos: 1 } }, (err) => {
      if (err) this.opts.log.error({ err: describeError(err) }, 'Command subscription refused');
    });
    // Whatever was on the wire before may be lost with the old connection: send it again, events
    // first; what was taken while the link was down is backlog from now on.
    const composed = this.opts.outbox.unacked();
    this.window.restart(composed);
    this.opts.outbox.markBacklog();
    this.lastLossReport = 0;
    const backlog = this.opts.outbox.stats().backlog + composed.reduce((n, m) => n + m.count, 0);
    this.replaying = backlog > 0 ? { since: this.opts.clock.now(), readings: 0, messages: 0 } : undefined;
    // Before the replay starts, so the hub sees the backlog the outage left.
    this.publishHealth();
    this.pump();
  }

  /** Logs the replay rate once the backlog is sent and acknowledged. */
  private replayDone(): void {
    const r = this.replaying;
    if (!r || this.opts.outbox.stats().backlog > 0 || this.window.replayPending()) return;
    this.replaying = undefined;
    const ms = Math.max(1, this.opts.clock.now() - r.since);
    this.opts.log.info(
      { readings: r.readings, messages: r.messages, ms, readingsPerS: Math.round((r.readings * 1000) / ms) },
      'Backlog replayed',
    );
  }

  private onDisconnect(): void {
    if (!this.isConnected) return;
    this.isConnected = false;
    this.disconnectedSince = this.opts.clock.now();
    if (this.liveTimer) clearTimeout(this.liveTimer);
    this.liveTimer = undefined;
    if (!this.stopping) this.opts.log.warn({ ...this.opts.outbox.stats() }, 'Disconnected, will reconnect');
  }

  private pump(): void {
    if (!this.isConnected || this.stopping) return;
    const { outbox } = this.opts;
    const now = this.opts.clock.now();
    if (now - this.lastLossReport >= LOSS_REPORT_EVERY_MS) {
      this.lastLossReport = now;
      outbox.reportLosses();
    }
    const plan = this.window.fill((message) => this.send(message), this.flushing);
    if (plan) for (const message of outbox.compose(plan)) this.send(message);
    this.scheduleLive();
  }

  /** Wakes the pump when the live lane's oldest reading has waited maxDelay. */
  private scheduleLive(): void {
    if (this.liveTimer || !this.isConnected || this.stopping) return;
    const due = this.opts.outbox.liveDueAt();
    if (due === undefined) return;
    this.liveTimer = setTimeout(
      () => {
        this.liveTimer = undefined;
        this.pump();
      },
      Math.max(1, due - this.opts.clock.now()),
    );
  }

  /** Puts a message on the wire; false when the outbox no longer holds it. */
  private send(message: OutboxMessage): boolean {
    const client = this.client;
    const { outbox, address } = this.opts;
    const body = outbox.body(message);
    if (!client || body === undefined) {
      this.window.drop(message.id);
      return false;
    }
    const now = this.opts.clock.now();
    const first = this.window.sent(message, now);
    if (first === undefined) {
      this.sent.inc({ channel: message.channel });
      if (this.replaying && message.lane === 'backlog') {
        this.replaying.readings += message.count;
        this.replaying.messages++;
      }
    } else {
      this.resent.inc({ channel: message.channel });
    }
    const payload = uplinkPayload(message, body, {
      gateway: address.gateway,
      firstUnacked: outbox.firstUnacked(message.bootId),
      sentAt: first ?? now,
    });
    client.publish(topics[message.channel](address), payload, { qos: 1 }, (err) => {
      // Only the hub's ack settles a message; a failed publish is resent after resendAfter or on reconnect.
      if (err) this.opts.log.debug({ seq: message.seq, err: describeError(err) }, 'Publish not confirmed');
    });
    return true;
  }

  private resendOverdue(): void {
    if (!this.isConnected || this.stopping) return;
    const due = this.opts.clock.now() - this.opts.resendAfter;
    for (const message of this.window.overdue(due)) this.send(message);
    this.pump();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    const { address, log } = this.opts;
    if (parsed?.type !== 'cmd' || parsed.gateway !== address.gateway || parsed.district !== address.district) {
      log.debug({ topic }, 'Message on an unexpected topic ignored');
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      log.warn({ topic }, 'Command with malformed JSON ignored');
      return;
    }
    if (parsed.name === 'ack') this.onAck(body);
    else this.onCommand(parsed.name, body);
  }

  private onAck(body: unknown): void {
    const ack = ackMessageSchema.safeParse(body);
    if (!ack.success) {
      this.acksIgnored.inc({ reason: 'malformed' });
      this.opts.log.warn('Malformed hub ack ignored');
      return;
    }
    const { outbox } = this.opts;
    const { bootId, seq } = ack.data;
    // Acks of an earlier boot are meaningful while its messages are replayed.
    if (!outbox.holdsBoot(bootId)) {
      this.acksIgnored.inc({ reason: 'unknown-boot' });
      this.opts.log.debug({ ackBootId: bootId }, 'Ack for a boot the outbox holds nothing of ignored');
      return;
    }
    for (const message of this.window.covered(bootId, seq)) {
      if (message.channel === 'media') {
        this.evidenceAcked.inc();
        this.evidenceAckedBytes.inc({}, message.bytes);
      }
    }
    const removed = outbox.ack(bootId, seq);
    if (removed.messages > 0) {
      this.acked.inc({}, removed.messages);
      this.itemsAcked.inc({}, removed.items);
    }
    this.window.settle(bootId, seq);
    if (this.replaying) this.replayDone();
    this.pump();
  }

  private onCommand(name: string, body: unknown): void {
    this.commands.handle(name, body, (result) => {
      if (!this.isConnected || this.stopping || !this.client) return;
      this.client.publish(topics.cmdResult(this.opts.address), JSON.stringify(result), { qos: 1 }, () => {});
    });
  }
}
