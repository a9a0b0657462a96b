/**
 * External-broker mode: the hub is an MQTT.js client of `mqtt.url` (Mosquitto, EMQX). Accounts
 * and the topic ACL are then the broker's job — configure it so that each gateway may publish
 * only under `cg/v1/<district>/<gateway>/` and read only its own `cmd/#` (e.g. a Mosquitto
 * `acl_file` with `pattern write cg/v1/+/%u/...` is NOT enough because the district is not in
 * the username: list one `user`/`topic` block per gateway), and the hub's account may read
 * `cg/v1/#` and write `cg/v1/+/+/cmd/#`.
 *
 * The session is persistent (clean: false, fixed client id) so QoS 1 uplinks published while the
 * hub is down wait in the broker for it.
 */
import mqtt from 'mqtt';
import type { Logger } from '../../../drivers/sdk/log.js';
import { type BrokerLink, type MessageHandler, type PublishOptions, topicMatcher } from './link.js';
import { turnCorker } from './turn-cork.js';

export interface ExternalBrokerOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** false for a throw-away session (the benchmark harness). Default true (clean: false). */
  persistentSession?: boolean;
}

/** Messages of a restored session that arrive before the hub has subscribed its handlers are held, up to this many. */
const EARLY_MESSAGE_LIMIT = 10_000;

function ignoreDebugLine(): void {}

export async function connectExternalBroker(opts: ExternalBrokerOptions, log: Logger): Promise<BrokerLink> {
  const subscriptions: { filter: string; matches: (topic: string) => boolean; handler: MessageHandler }[] = [];
  // With clean: false the broker may send queued messages in the same read as the CONNACK, before
  // any handler is registered; MQTT.js would PUBACK them regardless, so they are held here.
  let early: { topic: string; payload: Buffer }[] = [];
  const client = mqtt.connect(opts.url, {
    clientId: opts.clientId,
    clean: !(opts.persistentSession ?? true),
    protocolVersion: 4,
    username: opts.username,
    password: opts.password,
    reconnectPeriod: 1000,
    // A refused CONNACK (broker restarted with changed credentials) should not stop retrying.
    reconnectOnConnackError: true,
    queueQoSZero: false,
    keepalive: 30,
    manualConnect: true,
    // MQTT.js calls its `debug` logger ~10 times per packet unless given another (each call asks
    // whether DEBUG output is on): ~2-4 % of the hub's CPU at one reading per message.
    log: ignoreDebugLine,
  });
  let closing = false;
  // A handler's promise holds the next packet: MQTT.js reads the next one (and PUBACKs this one)
  // only after handleMessage calls back, so the backlog stays in the broker, not in the hub.
  let hold: Promise<void> | undefined;
  // PUBACKs of one read leave in one write instead of one syscall each (see turn-cork.ts).
  const corkThisTurn = turnCorker();
  client.handleMessage = (_packet, callback) => {
    corkThisTurn(client.stream);
    const waitFor = hold;
    hold = undefined;
    if (waitFor !== undefined)
      waitFor.then(
        () => callback(),
        () => callback(),
      );
    else callback();
  };
  const dispatch = (topic: string, payload: Buffer): boolean => {
    let matched = false;
    for (const s of subscriptions) {
      if (!s.matches(topic)) continue;
      matched = true;
      try {
        const result = s.handler(topic, payload);
        if (result instanceof Promise)
          hold = hold === undefined ? result : Promise.all([hold, result]).then(() => undefined);
      } catch (err) {
        log.error({ err, topic }, 'Message handler threw');
      }
    }
    return matched;
  };
  client.on('message', (topic, payload) => {
    if (dispatch(topic, payload)) return;
    if (early.length < EARLY_MESSAGE_LIMIT) early.push({ topic, payload });
    else log.warn({ topic }, 'Message before any subscription dropped');
  });
  client.on('connect', (connack) => {
    log.info({ url: opts.url, sessionPresent: connack.sessionPresent }, 'Connected to broker');
    // A broker that lost the session (restart without persistence) lost our subscriptions too.
    if (!connack.sessionPresent && subscriptions.length > 0) {
      const filters = Object.fromEntries(subscriptions.map((s) => [s.filter, { qos: 1 as const }]));
      client.subscribeAsync(filters).catch((err: unknown) => log.error({ err }, 'Re-subscribe failed'));
    }
  });
  client.on('offline', () => {
    if (!closing) log.warn({ url: opts.url }, 'Broker connection lost');
  });
  client.on('error', (err) => log.warn({ url: opts.url, err: err.message }, 'Broker client error'));
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      client.off('connect', onConnect);
      client.end(true);
      reject(err);
    };
    const onConnect = () => {
      client.off('error', onError);
      resolve();
    };
    client.once('connect', onConnect);
    client.once('error', onError);
    client.connect();
  });

  return {
    mode: 'external',
    url: opts.url,
    async subscribe(filter: string, handler: MessageHandler): Promise<void> {
      subscriptions.push({ filter, matches: topicMatcher(filter), handler });
      const held = early;
      early = [];
      for (const m of held) if (!dispatch(m.topic, m.payload)) early.push(m);
      await client.subscribeAsync({ [filter]: { qos: 1 } });
    },
    async publish(topic: string, payload: string | Buffer, o: PublishOptions): Promise<void> {
      await client.publishAsync(topic, payload, { qos: o.qos, retain: o.retain ?? false });
    },
    connected: () => client.connected,
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      await client.endAsync();
    },
  };
}
