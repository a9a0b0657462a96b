/**
 * One JT/T 808 server of a gateway (a `servers:` entry): a TCP listener the vehicle terminals
 * dial, one pure session per connection (drivers/jt808/session.ts), and the routing of each
 * authenticated session to the device of its terminal phone (O(1) by phone key). One sweep timer
 * per server checks every connection for the auth and heartbeat timeouts: thousands of terminals
 * cost no timer each. Bad input is refused, counted by reason and logged; the process goes on.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { DeviceConfig, ServerConfig } from '../../config/schema/gateway.js';
import { heartbeatTimeoutMs } from '../../config/schema/gateway.js';
import { MAX_FRAME_BYTES, splitJt808 } from '../../drivers/jt808/codec.js';
import {
  type Jt808Outcome,
  Jt808Session,
  type Jt808SessionDevice,
  phoneKey,
  type RefusalReason,
} from '../../drivers/jt808/session.js';
import type { Clock } from '../../drivers/sdk/clock.js';
import type { SessionDevice } from '../../drivers/sdk/driver.js';
import { type DecodeReason, StartupError } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import { Jt808Metrics } from './jt808-metrics.js';

export interface ServerMember {
  run: DeviceConfig;
  /** Builds the device's SessionDevice (the driver's createSession); throws when it cannot. */
  build(): SessionDevice;
}

export interface ServerRunDeps {
  members: readonly ServerMember[];
  /** Child logger with component and server bound. */
  log: Logger;
  clock: Clock;
  metrics: MetricsRegistry;
  setAvailability(device: string, online: boolean, reason: string): void;
  countDecodeError(device: string, reason: DecodeReason): void;
}

/** Why a connection ended; the `reason` label of the disconnects counter. */
type CloseReason =
  | 'peer-closed'
  | 'auth-timeout'
  | 'heartbeat-timeout'
  | 'replaced'
  | 'buffer-overflow'
  | 'max-connections'
  | 'socket-error'
  | 'server-stopped';

const DECODE_REASONS = new Set<string>([
  'bad-checksum',
  'short-frame',
  'bad-frame',
  'unknown-type',
  'out-of-range',
  'bad-field',
  'too-long',
]);

interface Connection {
  readonly id: number;
  readonly socket: net.Socket;
  readonly remote: string;
  readonly session: Jt808Session;
  rest: Buffer;
  /** The device of the authenticated session. */
  device?: Jt808SessionDevice;
  closing?: CloseReason;
}

/** Random printable auth code: 12 characters of base64url. */
const newAuthCode = (): string => randomBytes(9).toString('base64url');

export class Jt808ServerRun {
  readonly log: Logger;
  private server: net.Server | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly terminals = new Map<string, Jt808SessionDevice>();
  private readonly connections = new Set<Connection>();
  private readonly byDevice = new Map<string, Connection>();
  private readonly m: Jt808Metrics;
  private nextConn = 1;
  private built = false;
  private lastFloodLog = 0;
  private floodSinceLog = 0;
  private boundPort = 0;

  constructor(
    private readonly cfg: ServerConfig,
    private readonly deps: ServerRunDeps,
  ) {
    this.log = deps.log;
    this.m = new Jt808Metrics(deps.metrics, cfg.id, () => ({
      connected: this.connections.size,
      authenticated: this.byDevice.size,
    }));
  }

  /** The port listened on (the configured one, or the one picked for port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** Builds the devices (once) and listens; throws a retryable StartupError when the port is taken. */
  async start(): Promise<void> {
    if (!this.built) this.buildDevices();
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new StartupError(`cannot listen on ${this.cfg.listen.host}:${this.cfg.listen.port}: ${err.message}`, true, {
            cause: err,
          }),
        ),
      );
      server.listen({ host: this.cfg.listen.host, port: this.cfg.listen.port }, () => resolve());
    });
    server.on('error', (err) => this.log.error({ err: err.message }, 'JT/T 808 listener error'));
    this.server = server;
    this.boundPort = (server.address() as net.AddressInfo).port;
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(50, this.cfg.sweepIntervalS * 1000));
    this.sweepTimer.unref();
    this.log.info(
      { host: this.cfg.listen.host, port: this.boundPort, terminals: this.terminals.size },
      'JT/T 808 server listening',
    );
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    const server = this.server;
    this.server = undefined;
    for (const conn of [...this.connections]) this.close(conn, 'server-stopped');
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private buildDevices(): void {
    this.built = true;
    for (const member of this.deps.members) {
      const id = member.run.id;
      let device: Jt808SessionDevice;
      try {
        device = member.build() as Jt808SessionDevice;
      } catch (err) {
        this.log.error({ device: id, err: String(err) }, 'Device cannot be set up; its terminal will be refused');
        this.deps.setAvailability(id, false, `cannot be set up: ${String(err)}`);
        continue;
      }
      const other = this.terminals.get(device.key);
      if (other) {
        this.log.error({ device: id, other: other.device, phone: device.key }, 'Two devices with one terminal phone');
        this.deps.setAvailability(id, false, `terminal phone ${device.key} is also ${other.device}'s`);
        continue;
      }
      this.terminals.set(device.key, device);
    }
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.connections.size >= this.cfg.maxConnections) {
      socket.on('error', () => {});
      socket.destroy();
      this.m.refused('max-connections');
      this.m.disconnected('max-connections');
      this.floodSinceLog++;
      const now = this.deps.clock.now();
      if (now - this.lastFloodLog >= 5000) {
        this.log.warn(
          { remote, refused: this.floodSinceLog, maxConnections: this.cfg.maxConnections },
          'Connection refused: maxConnections reached',
        );
        this.lastFloodLog = now;
        this.floodSinceLog = 0;
      }
      return;
    }
    const conn: Connection = {
      id: this.nextConn++,
      socket,
      remote,
      rest: Buffer.alloc(0),
      session: new Jt808Session(
        {
          directory: { find: (key) => this.terminals.get(key) },
          newAuthCode,
          authTimeoutMs: this.cfg.authTimeoutS * 1000,
          heartbeatTimeoutMs: heartbeatTimeoutMs(this.cfg),
        },
        this.deps.clock.now(),
      ),
    };
    this.connections.add(conn);
    this.m.connected();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', (err) => {
      this.log.debug({ conn: conn.id, remote, err: err.message }, 'Terminal socket error');
      this.close(conn, 'socket-error');
    });
    socket.on('close', () => this.onClosed(conn));
    this.log.debug({ conn: conn.id, remote }, 'Terminal connected');
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (conn.closing) return;
    const buf = conn.rest.length ? Buffer.concat([conn.rest, chunk]) : chunk;
    const lastFlag = buf.lastIndexOf(0x7e);
    if (lastFlag >= 0 && buf.length - lastFlag > MAX_FRAME_BYTES) this.refuse(conn, 'too-long', 'oversized frame');
    const split = splitJt808(buf);
    if (split.discarded > 0) this.m.garbage(split.discarded);
    conn.rest = split.rest;
    const now = this.deps.clock.now();
    for (const frame of split.frames) {
      if (conn.closing) return;
      const step = conn.session.receive(frame, now);
      this.m.frame(step.msgId);
      for (const reply of step.replies) {
        conn.socket.write(reply.bytes);
        this.m.reply(reply.msgId, reply.result);
      }
      for (const outcome of step.outcomes) this.handle(conn, outcome);
    }
    if (conn.rest.length + conn.socket.writableLength > this.cfg.maxBufferedBytes) {
      this.refuse(conn, 'buffer-overflow', `${conn.rest.length + conn.socket.writableLength} bytes held`);
      this.close(conn, 'buffer-overflow');
    }
  }

  private handle(conn: Connection, o: Jt808Outcome): void {
    switch (o.kind) {
      case 'refused':
        this.refuse(conn, o.reason, o.detail, o.phone);
        return;
      case 'registered':
        this.log.info({ conn: conn.id, remote: conn.remote, device: o.device, phone: o.phone }, 'Terminal registered');
        if (conn.device) {
          // registering again on an authenticated connection starts over: offline until it authenticates
          this.byDevice.delete(conn.device.device);
          conn.device.ended('registered-again');
          conn.device = undefined;
        }
        return;
      case 'authenticated': {
        const device = this.terminals.get(phoneKey(o.phone));
        if (!device) return;
        const previous = this.byDevice.get(device.device);
        if (previous && previous !== conn) {
          previous.device = undefined; // replaced: the vehicle stays online through the new session
          this.close(previous, 'replaced');
          this.log.info({ conn: conn.id, replaced: previous.id, device: device.device }, 'Terminal reconnected');
        }
        conn.device = device;
        this.byDevice.set(device.device, conn);
        this.log.info(
          { conn: conn.id, remote: conn.remote, device: device.device, phone: o.phone, v2019: o.v2019 },
          'Terminal authenticated',
        );
        device.deliver(o);
        return;
      }
      case 'unregistered':
        if (conn.device) {
          this.byDevice.delete(conn.device.device);
          conn.device.deliver(o);
          this.log.info({ conn: conn.id, device: o.device }, 'Terminal unregistered');
          conn.device = undefined;
        }
        return;
      case 'location':
        conn.device?.deliver(o);
        return;
      case 'close':
        this.log.warn(
          { conn: conn.id, remote: conn.remote, device: conn.device?.device, reason: o.reason },
          o.reason === 'auth-timeout' ? 'Terminal never authenticated; dropped' : 'Terminal silent; dropped',
        );
        if (o.reason === 'auth-timeout') this.m.refused('auth-timeout');
        this.close(conn, o.reason);
        return;
    }
  }

  private refuse(conn: Connection, reason: RefusalReason | 'buffer-overflow', detail: string, phone?: string): void {
    this.m.refused(reason);
    const device = conn.device?.device;
    if (DECODE_REASONS.has(reason))
      this.deps.countDecodeError(device ?? `server:${this.cfg.id}`, reason as DecodeReason);
    this.log.warn({ conn: conn.id, remote: conn.remote, device, phone, reason, detail }, 'Terminal message refused');
  }

  private sweep(): void {
    const now = this.deps.clock.now();
    for (const conn of this.connections) {
      if (conn.closing) continue;
      for (const o of conn.session.tick(now)) this.handle(conn, o);
    }
  }

  private close(conn: Connection, reason: CloseReason): void {
    if (conn.closing) return;
    conn.closing = reason;
    conn.socket.destroy();
    this.onClosed(conn);
  }

  /** Runs once per connection, on our close or the peer's. */
  private onClosed(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    const reason = conn.closing ?? 'peer-closed';
    this.m.disconnected(reason);
    const device = conn.device;
    if (device && this.byDevice.get(device.device) === conn) {
      this.byDevice.delete(device.device);
      device.ended(reason);
      this.log.info({ conn: conn.id, device: device.device, reason }, 'Terminal session ended');
    }
  }
}
