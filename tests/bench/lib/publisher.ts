/**
 * Forked load generator of the ingest bench: one MQTT.js client per simulated gateway. Runs in
 * its own process so that publishing does not share the measured system's event loop.
 *
 * Mode `hub`: each gateway logs in with its own account, subscribes to its `cmd/#` and keeps at
 * most `window` messages not yet covered by the hub's end-to-end ack (`cmd/ack`, the highest
 * contiguous seq made durable). Latency of a message = publish -> the ack that covers it.
 * Mode `broker`: anonymous clients against a plain broker; the window is bounded by PUBACK (no
 * end-to-end ack exists there) and the latency is taken by the subscriber from `sentAt`.
 *
 * IPC in:  {cmd:'init', ...PublisherInit} -> {type:'ready', messages}
 *          {cmd:'go'}                      -> {type:'done', ...PublisherResult}
 *          {cmd:'exit'}
 */
import { connect, type MqttClient } from 'mqtt';
import { type BenchGateway, envelope, gatewayMessages, type PreparedMessage } from './workload.js';

export interface PublisherInit {
  url: string;
  mode: 'hub' | 'broker';
  /** This process' gateways, with their index among all gateways. */
  gateways: { gw: BenchGateway; index: number }[];
  totalGateways: number;
  readings: number;
  batch: number;
  window: number;
  t0: number;
  runId: string;
}

export interface PublisherResult {
  /** Absolute ms (performance.timeOrigin based) of the first publish. */
  tFirst: number;
  /** Absolute ms of the last ack (hub) or PUBACK (broker). */
  tLast: number;
  messages: number;
  readings: number;
  /** Per message, publish -> covering hub ack, ms (hub mode only). */
  latencies: number[];
  errors: number;
  firstError?: string;
}

const now = (): number => performance.timeOrigin + performance.now();

interface Lane {
  gw: BenchGateway;
  client: MqttClient;
  messages: PreparedMessage[];
  next: number;
  /** Highest seq acknowledged (hub: cmd/ack; broker: contiguous PUBACKs are not tracked, see inflight). */
  acked: number;
  inflight: number;
  sentAt: Float64Array;
  topic: string;
  ackTopic: string;
  bootId: string;
}

function connectClient(url: string, init: PublisherInit, gw: BenchGateway): Promise<MqttClient> {
  const auth = init.mode === 'hub' ? { username: gw.id, password: gw.password } : {};
  const client = connect(url, {
    clientId: init.mode === 'hub' ? gw.id : `bench-${gw.id}-${process.pid}`,
    ...auth,
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

async function prepare(init: PublisherInit): Promise<Lane[]> {
  return Promise.all(
    init.gateways.map(async ({ gw, index }) => {
      const bootId = `${init.runId}-${gw.id}`;
      const messages = gatewayMessages(gw, index, init.totalGateways, init.readings, init.batch, bootId, init.t0);
      const client = await connectClient(init.url, init, gw);
      const base = `cg/v1/${gw.district}/${gw.id}`;
      if (init.mode === 'hub') await client.subscribeAsync(`${base}/cmd/#`, { qos: 1 });
      return {
        gw,
        client,
        messages,
        next: 0,
        acked: -1,
        inflight: 0,
        sentAt: new Float64Array(messages.length),
        topic: `${base}/telemetry`,
        ackTopic: `${base}/cmd/ack`,
        bootId,
      };
    }),
  );
}

function run(init: PublisherInit, lanes: Lane[]): Promise<PublisherResult> {
  const result: PublisherResult = {
    tFirst: now(),
    tLast: 0,
    messages: 0,
    readings: 0,
    latencies: [],
    errors: 0,
  };
  let running = lanes.filter((l) => l.messages.length > 0).length;
  return new Promise((resolve) => {
    if (running === 0) resolve(result);
    const laneDone = () => {
      running -= 1;
      if (running === 0) resolve(result);
    };
    for (const lane of lanes) {
      if (lane.messages.length === 0) continue;
      const last = lane.messages.length - 1;
      let pumping = false;
      const send = (m: PreparedMessage) => {
        const t = now();
        lane.sentAt[m.seq] = t;
        lane.inflight += 1;
        result.messages += 1;
        result.readings += m.readings;
        lane.client.publish(lane.topic, envelope(m, lane.acked + 1, Math.round(t)), { qos: 1 }, onPuback);
      };
      const pump = () => {
        if (pumping) return; // a PUBACK callback may fire synchronously inside publish()
        pumping = true;
        const unacked = () => (init.mode === 'hub' ? lane.next - (lane.acked + 1) : lane.inflight);
        while (lane.next <= last && unacked() < init.window) send(lane.messages[lane.next++] as PreparedMessage);
        pumping = false;
      };
      function onPuback(err?: Error): void {
        if (err) {
          result.errors += 1;
          result.firstError ??= err.message;
        }
        lane.inflight -= 1;
        if (init.mode !== 'broker') return;
        result.tLast = now();
        if (lane.next > last && lane.inflight === 0) laneDone();
        else pump();
      }
      if (init.mode === 'hub') {
        lane.client.on('message', (topic, payload) => {
          if (topic !== lane.ackTopic) return;
          const ack = JSON.parse(payload.toString('utf8')) as { bootId: string; seq: number };
          if (ack.bootId !== lane.bootId || ack.seq <= lane.acked) return;
          const t = now();
          const upTo = Math.min(ack.seq, lane.next - 1);
          for (let s = lane.acked + 1; s <= upTo; s++) result.latencies.push(t - (lane.sentAt[s] as number));
          lane.acked = upTo;
          result.tLast = t;
          if (lane.acked === last) laneDone();
          else pump();
        });
      }
      pump();
    }
  });
}

function main(): void {
  let init: PublisherInit | undefined;
  let lanes: Lane[] = [];
  const send = (msg: object) => process.send?.(msg);
  process.on('message', (msg: { cmd: string } & Partial<PublisherInit>) => {
    if (msg.cmd === 'init') {
      init = msg as PublisherInit;
      prepare(init).then(
        (l) => {
          lanes = l;
          send({ type: 'ready', messages: l.reduce((n, lane) => n + lane.messages.length, 0) });
        },
        (err: unknown) => send({ type: 'error', error: String(err) }),
      );
    } else if (msg.cmd === 'go' && init) {
      run(init, lanes).then(
        (r) => send({ type: 'done', ...r }),
        (err: unknown) => send({ type: 'error', error: String(err) }),
      );
    } else if (msg.cmd === 'exit') {
      void Promise.all(lanes.map((l) => l.client.endAsync(true))).finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

main();
