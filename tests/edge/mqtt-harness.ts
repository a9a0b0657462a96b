/**
 * Real MQTT plumbing for the edge integration tests: an aedes broker on a loopback port (that can
 * be closed and restarted on the same port) and a test-side "hub" client that records uplink
 * messages and publishes end-to-end acks the way the real hub does.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { type GatewayAddress, parseTopic, TOPIC_ROOT, topics } from '../../drivers/sdk/wire.js';

export interface TestBroker {
  readonly port: number;
  readonly url: string;
  /** Passwords by username; change it to make the broker refuse or accept. */
  readonly passwords: Map<string, string>;
  /** Drops a client's TCP connection without a DISCONNECT (the broker publishes its will). */
  killClient(clientId: string): boolean;
  close(): Promise<void>;
  /** Starts a fresh broker (empty sessions and retained messages) on the same port. */
  restart(): Promise<void>;
}

export async function startTestBroker(passwords: Record<string, string> = {}, port = 0): Promise<TestBroker> {
  const accounts = new Map(Object.entries(passwords));
  let broker: Aedes;
  let server: net.Server;
  const sockets = new Set<net.Socket>();
  const conns = new Map<string, { destroy(): void }>();
  let boundPort = port;

  const open = async () => {
    broker = await Aedes.createBroker({
      authenticate(_client, username, password, done) {
        const expected = username === undefined ? undefined : accounts.get(username);
        const ok = expected !== undefined && password?.toString('utf8') === expected;
        if (ok) return done(null, true);
        const err = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
        return done(err, false);
      },
    });
    broker.on('client', (client) => conns.set(client.id, client.conn as unknown as { destroy(): void }));
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(boundPort, '127.0.0.1', () => resolve());
    });
    boundPort = (server.address() as net.AddressInfo).port;
  };

  const close = async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    conns.clear();
  };

  await open();
  return {
    get port() {
      return boundPort;
    },
    get url() {
      return `mqtt://127.0.0.1:${boundPort}`;
    },
    passwords: accounts,
    killClient(clientId) {
      const conn = conns.get(clientId);
      conn?.destroy();
      return conn !== undefined;
    },
    close,
    restart: open,
  };
}

export interface Envelope {
  v?: number;
  gateway: string;
  bootId: string;
  seq: number;
  firstUnacked?: number;
  sentAt?: number;
  readings?: { device: string; kind: string; ts: number; fields: Record<string, unknown>; asset?: string }[];
  events?: { type: string; device: string; severity: string; data?: Record<string, unknown> }[];
}

export interface Received {
  topic: string;
  channel: string;
  gateway: string;
  retain: boolean;
  body: Record<string, unknown>;
}

/** A stand-in for the hub's ingest: records everything, and (optionally) acks like the real hub. */
export class TestHub {
  readonly messages: Received[] = [];
  /** Stored seqs per bootId (duplicates dropped) and the contiguous mark. */
  readonly stored = new Map<string, Map<number, Envelope>>();
  autoAck = false;

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const parsed = parseTopic(topic);
      if (parsed?.type !== 'uplink') return;
      const body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      this.messages.push({ topic, channel: parsed.channel, gateway: parsed.gateway, retain: packet.retain, body });
      if (parsed.channel === 'telemetry' || parsed.channel === 'event') this.store(parsed, body as unknown as Envelope);
    });
  }

  static async connect(url: string, password: string): Promise<TestHub> {
    const client = await connectAsync(url, {
      clientId: `test-hub-${process.pid}`,
      username: 'hub',
      password,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 100,
      reconnectOnConnackError: true,
    });
    await client.subscribeAsync({ [`${TOPIC_ROOT}/+/+/#`]: { qos: 1 } });
    return new TestHub(client);
  }

  uplink(gateway: string, channel: string): Received[] {
    return this.messages.filter((m) => m.gateway === gateway && m.channel === channel);
  }

  envelopes(gateway: string, channel: 'telemetry' | 'event' = 'telemetry'): Envelope[] {
    return this.uplink(gateway, channel).map((m) => m.body as unknown as Envelope);
  }

  /** Highest seq of bootId such that every seq from 0 up to it was stored. */
  contiguous(bootId: string): number {
    const seqs = this.stored.get(bootId);
    let mark = -1;
    while (seqs?.has(mark + 1)) mark++;
    return mark;
  }

  async ack(address: GatewayAddress, bootId: string, seq: number): Promise<void> {
    await this.client.publishAsync(topics.cmd(address, 'ack'), JSON.stringify({ bootId, seq }), { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private store(address: GatewayAddress, envelope: Envelope): void {
    const seqs = this.stored.get(envelope.bootId) ?? new Map<number, Envelope>();
    this.stored.set(envelope.bootId, seqs);
    if (!seqs.has(envelope.seq)) seqs.set(envelope.seq, envelope);
    if (this.autoAck && this.client.connected) {
      this.client.publish(
        topics.cmd(address, 'ack'),
        JSON.stringify({ bootId: envelope.bootId, seq: this.contiguous(envelope.bootId) }),
        { qos: 1 },
        () => {},
      );
    }
  }
}

/** Polls until `check` returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
