/**
 * The embedded broker: aedes on a loopback TCP port, with per-gateway accounts and the topic ACL
 * of DESIGN §4.2. The hub itself subscribes and publishes in-process (broker.subscribe /
 * broker.publish), which bypasses authenticate and the ACL hooks: it needs no account.
 */
import { createServer, type Socket } from 'node:net';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket } from 'aedes';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { listen } from '../listen.js';
import { type AccountBook, authenticateAccount } from './accounts.js';
import { type AclDecision, decideOrphanWill, decidePublish, decideSubscribe, type Principal } from './acl.js';
import { settleOnce } from './hooks.js';
import type { BrokerLink, MessageHandler, PublishOptions } from './link.js';

export interface EmbeddedBrokerOptions {
  /** Bind address, normally 127.0.0.1. */
  host: string;
  /** TCP port; 0 lets the kernel pick one (the actual one is in `url`). */
  port: number;
  /** aedes broker id, in $SYS topics. Default `citygrid-hub`. */
  id?: string;
}

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3. */
const CONNACK_BAD_CREDENTIALS = 4;
const CONNACK_NOT_AUTHORIZED = 5;

class AuthError extends Error {
  constructor(
    message: string,
    readonly returnCode: number,
  ) {
    super(message);
  }
}

function remoteAddress(client: Client | null): string | undefined {
  const conn = client?.conn as Partial<Socket> | undefined;
  return conn?.remoteAddress ? `${conn.remoteAddress}:${conn.remotePort}` : undefined;
}

export async function startEmbeddedBroker(
  opts: EmbeddedBrokerOptions,
  accounts: AccountBook,
  log: Logger,
  metrics: MetricsRegistry,
): Promise<BrokerLink> {
  const authFailures = metrics.counter('citygrid_mqtt_auth_failures_total', 'MQTT CONNECTs refused, by reason.');
  const publishDenied = metrics.counter(
    'citygrid_mqtt_publish_denied_total',
    'MQTT publishes refused by the ACL (connection closed), by gateway and reason.',
  );
  const subscribeDenied = metrics.counter(
    'citygrid_mqtt_subscribe_denied_total',
    'MQTT subscriptions refused by the ACL (SUBACK 128), by user and reason.',
  );
  const principals = new WeakMap<Client, Principal>();

  const denyLog = (
    kind: string,
    client: Client | null,
    principal: Principal | undefined,
    topic: string,
    decision: AclDecision,
  ) => {
    if (decision.allowed) return;
    log.warn(
      { username: principal?.id, clientId: client?.id, remote: remoteAddress(client), topic, reason: decision.reason },
      `${kind} denied`,
    );
  };

  const broker = await Aedes.createBroker({
    id: opts.id ?? 'citygrid-hub',
    // Bounded queues: packets buffered before a session is set up, and how long a slow client may block a write.
    queueLimit: 1000,
    drainTimeout: 30_000,
    maxTopicLevels: 16,
    authenticate(client, username, password, done) {
      settleOnce(
        () => authenticateAccount(accounts, username, password),
        (result) => {
          if (result.ok) {
            principals.set(client, result.principal);
            log.debug({ username, clientId: client.id, role: result.principal.role }, 'Client authenticated');
            done(null, true);
            return;
          }
          authFailures.inc({ reason: result.reason });
          log.warn(
            { username, clientId: client.id, remote: remoteAddress(client), reason: result.reason },
            'MQTT login refused',
          );
          const code = result.reason === 'no-credentials' ? CONNACK_NOT_AUTHORIZED : CONNACK_BAD_CREDENTIALS;
          done(new AuthError('login refused', code) as Error & { returnCode: number }, false);
        },
        (err) => {
          authFailures.inc({ reason: 'error' });
          log.error({ username, err }, 'MQTT authentication failed');
          done(new AuthError('authentication failed', CONNACK_NOT_AUTHORIZED) as Error & { returnCode: number }, false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      const principal = client ? principals.get(client) : undefined;
      const decision: AclDecision = principal
        ? decidePublish(principal, packet.topic)
        : client === null
          ? decideOrphanWill(packet.topic)
          : { allowed: false, reason: 'foreign-prefix' };
      if (decision.allowed) {
        done(null);
        return;
      }
      publishDenied.inc({ gateway: principal?.id ?? '', reason: decision.reason });
      denyLog('Publish', client, principal, packet.topic, decision);
      // aedes closes the connection on a refused publish (MQTT 3.1.1 has no negative PUBACK).
      done(new Error(`publish to ${packet.topic} denied: ${decision.reason}`));
    },
    authorizeSubscribe(client, sub, done) {
      const principal = principals.get(client);
      const decision: AclDecision = principal
        ? decideSubscribe(principal, sub.topic)
        : { allowed: false, reason: 'not-own-cmd' };
      if (decision.allowed) {
        done(null, sub);
        return;
      }
      subscribeDenied.inc({ user: principal?.id ?? '', reason: decision.reason });
      denyLog('Subscribe', client, principal, sub.topic, decision);
      // done(null, null) answers SUBACK 0x80 and keeps the connection; done(err) would drop it.
      done(null, null);
    },
  });
  broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'MQTT client error'));
  broker.on('connectionError', (client, err) =>
    log.debug({ clientId: client?.id, err: err.message }, 'MQTT connection error'),
  );

  const server = createServer(broker.handle);
  const address = await listen(server, opts.port, opts.host);
  const url = `mqtt://${address.host}:${address.port}`;
  let closed = false;

  return {
    mode: 'embedded',
    url,
    subscribe(filter: string, handler: MessageHandler): Promise<void> {
      const deliver = (packet: AedesPublishPacket, cb: () => void) => {
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        let hold: Promise<void> | undefined;
        try {
          const result = handler(packet.topic, payload);
          if (result instanceof Promise) hold = result;
        } catch (err) {
          log.error({ err, topic: packet.topic }, 'Message handler threw');
        }
        // Holding cb() holds this delivery slot of aedes' emitter (bounded by its concurrency).
        if (hold !== undefined) hold.then(cb, cb);
        else cb();
      };
      return new Promise((resolve) => broker.subscribe(filter, deliver, () => resolve()));
    },
    publish(topic: string, payload: string | Buffer, o: PublishOptions): Promise<void> {
      const packet = {
        cmd: 'publish',
        topic,
        payload,
        qos: o.qos,
        retain: o.retain ?? false,
        dup: false,
      } as PublishPacket;
      return new Promise((resolve, reject) => broker.publish(packet, (err) => (err ? reject(err) : resolve())));
    },
    connected: () => !closed,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const persistence = (broker as unknown as { persistence?: { destroy?: () => Promise<void> | void } }).persistence;
      await persistence?.destroy?.();
    },
  };
}
