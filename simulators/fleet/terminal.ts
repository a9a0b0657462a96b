/**
 * One simulated JT/T 808 vehicle terminal: a TCP client that registers (0x0100) once and keeps
 * the auth code, authenticates (0x0102) on every connection, sends heartbeats (0x0002) when idle
 * and location reports (0x0200), and waits for the platform's answer to each. An unanswered
 * message is sent again after T × (n + 1) (n = retransmissions so far, 3 at most, as the standard
 * says); after the last one the link counts as broken: the terminal reconnects. Positions it
 * cannot send (no signal in a tunnel, no connection, unanswered) are kept and uploaded as a
 * blind-area batch (0x0704 type 1) once it is authenticated with signal again.
 */
import net from 'node:net';
import type { Logger } from '../../drivers/sdk/log.js';
import {
  authBody,
  batchBody,
  type LocationReport,
  locationBody,
  MSG,
  packBatches,
  type RegisterInfo,
  registerBody,
} from './jt808-bodies.js';
import {
  decodeFrame,
  encodeFrame,
  FrameSplitter,
  type Jt808Version,
  readGeneralReply,
  readRegisterReply,
} from './jt808-frames.js';

export interface TerminalOptions {
  host: string;
  port: number;
  phone: string;
  version: Jt808Version;
  register: RegisterInfo;
  /** Heartbeat after this long without sending anything, ms. Default 30 000. */
  heartbeatMs?: number;
  /** T of the retransmission rule, ms. Default 10 000 (the standard's default). */
  ackTimeoutMs?: number;
  /** Retransmissions before the link counts as broken. Default 3. */
  retries?: number;
  /** Wait before reconnecting, ms. Default 2 000. */
  reconnectMs?: number;
  /** Blind-area buffer, positions (oldest dropped beyond). Default 5 000. */
  maxBuffered?: number;
  log: Logger;
}

export interface TerminalStats {
  connects: number;
  registered: number;
  authenticated: number;
  reports: number;
  batches: number;
  batchedPositions: number;
  heartbeats: number;
  acked: number;
  retransmits: number;
  linkFailures: number;
  refusals: number;
  buffered: number;
}

/** All counters at zero: a new terminal's, and the start of a fleet's sum. */
export function zeroStats(): TerminalStats {
  return {
    connects: 0,
    registered: 0,
    authenticated: 0,
    reports: 0,
    batches: 0,
    batchedPositions: 0,
    heartbeats: 0,
    acked: 0,
    retransmits: 0,
    linkFailures: 0,
    refusals: 0,
    buffered: 0,
  };
}

interface Pending {
  msgId: number;
  frame: Buffer;
  tries: number;
  timer: NodeJS.Timeout;
  /** Location bodies the message carried: back to the blind buffer if it is never answered. */
  positions: Buffer[];
}

export class Terminal {
  readonly stats: TerminalStats = zeroStats();
  private socket: net.Socket | undefined;
  private authCode: string | undefined;
  private authed = false;
  private signal = true;
  private stopped = false;
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private blind: Buffer[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;

  constructor(private readonly opts: TerminalOptions) {}

  get online(): boolean {
    return this.authed;
  }

  get hasSignal(): boolean {
    return this.signal;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** A location: sent now when authenticated with signal, else kept for a blind-area upload. */
  report(r: LocationReport): void {
    const body = locationBody(r);
    if (!this.authed || !this.signal) {
      this.keep([body]);
      return;
    }
    this.stats.reports++;
    this.send(MSG.location, body, [body]);
  }

  /** Signal lost (tunnel) or back; coming back uploads what was kept. */
  setSignal(on: boolean): void {
    if (on === this.signal) return;
    this.signal = on;
    if (on) this.flushBlind();
  }

  /** Cuts the connection as a network drop would; the terminal reconnects and authenticates again. */
  drop(): void {
    this.socket?.destroy();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    clearTimeout(this.heartbeat);
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    const s = this.socket;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.destroy();
    });
  }

  private keep(bodies: Buffer[]): void {
    this.blind.push(...bodies);
    const max = this.opts.maxBuffered ?? 5000;
    if (this.blind.length > max) this.blind.splice(0, this.blind.length - max);
    this.stats.buffered = this.blind.length;
  }

  private connect(): void {
    if (this.stopped) return;
    if (!this.signal) {
      // no network under a tunnel: try again later
      this.reconnect = setTimeout(() => this.connect(), this.opts.reconnectMs ?? 2000);
      return;
    }
    const log = this.opts.log;
    const socket = net.connect({ host: this.opts.host, port: this.opts.port });
    this.socket = socket;
    const splitter = new FrameSplitter();
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.stats.connects++;
      log.debug('Connected');
      if (this.authCode) this.sendAuth();
      else this.sendRegister();
    });
    socket.on('data', (chunk) => {
      for (const inner of splitter.push(chunk)) {
        try {
          this.onFrame(decodeFrame(inner));
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'Bad frame from the platform');
        }
      }
    });
    socket.on('error', (err) => log.debug({ err: err.message }, 'Socket error'));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.authed = false;
      this.socket = undefined;
      clearTimeout(this.heartbeat);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        if (p.positions.length) this.keep(p.positions);
      }
      this.pending.clear();
      if (!this.stopped) this.reconnect = setTimeout(() => this.connect(), this.opts.reconnectMs ?? 2000);
    });
  }

  private sendRegister(): void {
    this.send(MSG.register, registerBody(this.opts.register, this.opts.version));
  }

  private sendAuth(): void {
    const imei = `86${this.opts.phone.replace(/^0+/, '').padStart(13, '0')}`.slice(0, 15);
    this.send(MSG.auth, authBody(this.authCode ?? '', this.opts.version, imei, 'citygrid-sim-1'));
  }

  private send(msgId: number, body: Buffer, positions: Buffer[] = []): void {
    const socket = this.socket;
    if (!socket || socket.destroyed) {
      if (positions.length) this.keep(positions);
      return;
    }
    const serial = this.serial;
    this.serial = (this.serial + 1) & 0xffff;
    const frame = encodeFrame({ msgId, phone: this.opts.phone, serial, version: this.opts.version }, body);
    socket.write(frame);
    this.armHeartbeat();
    const p: Pending = { msgId, frame, tries: 0, positions, timer: undefined as unknown as NodeJS.Timeout };
    p.timer = this.retransmitTimer(serial, p);
    this.pending.set(serial, p);
  }

  /** T(n) = T × (n + 1): 10, 20, 30 s with the default T, then the link is broken. */
  private retransmitTimer(serial: number, p: Pending): NodeJS.Timeout {
    const t = (this.opts.ackTimeoutMs ?? 10_000) * (p.tries + 1);
    const timer = setTimeout(() => {
      if (this.pending.get(serial) !== p) return;
      if (p.tries >= (this.opts.retries ?? 3)) {
        this.stats.linkFailures++;
        this.opts.log.info({ msgId: p.msgId, serial }, 'No answer after the last retransmission: reconnecting');
        this.socket?.destroy();
        return;
      }
      p.tries++;
      this.stats.retransmits++;
      this.socket?.write(p.frame);
      p.timer = this.retransmitTimer(serial, p);
    }, t);
    timer.unref();
    return timer;
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => {
      if (this.authed && this.signal) {
        this.stats.heartbeats++;
        this.send(MSG.heartbeat, Buffer.alloc(0));
      } else this.armHeartbeat();
    }, this.opts.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
  }

  private settle(serial: number, msgId: number): Pending | undefined {
    const p = this.pending.get(serial);
    if (!p || p.msgId !== msgId) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(serial);
    this.stats.acked++;
    return p;
  }

  private onFrame(f: { msgId: number; serial: number; body: Buffer }): void {
    const log = this.opts.log;
    if (f.msgId === MSG.registerReply) {
      const r = readRegisterReply(f.body);
      if (!this.settle(r.replySerial, MSG.register)) return;
      if (r.result !== 0 || !r.authCode) {
        this.stats.refusals++;
        log.warn({ result: r.result }, 'Registration refused');
        this.socket?.destroy();
        return;
      }
      this.stats.registered++;
      this.authCode = r.authCode;
      this.sendAuth();
      return;
    }
    if (f.msgId === MSG.platformReply) {
      const r = readGeneralReply(f.body);
      const p = this.settle(r.replySerial, r.replyMsgId);
      if (!p || r.replyMsgId !== MSG.auth) return;
      if (r.result !== 0) {
        // a stale code (the platform forgot us): register again
        this.stats.refusals++;
        log.info({ result: r.result }, 'Authentication refused: registering again');
        this.authCode = undefined;
        this.sendRegister();
        return;
      }
      this.stats.authenticated++;
      this.authed = true;
      log.debug('Authenticated');
      this.flushBlind();
      return;
    }
    // anything else the platform asks: the terminal general reply, "not supported"
    const reply = Buffer.alloc(5);
    reply.writeUInt16BE(f.serial, 0);
    reply.writeUInt16BE(f.msgId, 2);
    reply[4] = 3;
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      const serial = this.serial;
      this.serial = (this.serial + 1) & 0xffff;
      socket.write(
        encodeFrame({ msgId: MSG.terminalReply, phone: this.opts.phone, serial, version: this.opts.version }, reply),
      );
    }
  }

  private flushBlind(): void {
    if (!this.authed || !this.signal || this.blind.length === 0) return;
    const kept = this.blind;
    this.blind = [];
    this.stats.buffered = 0;
    for (const batch of packBatches(kept)) {
      this.stats.batches++;
      this.stats.batchedPositions += batch.length;
      this.send(MSG.batch, batchBody(1, batch), batch);
    }
  }
}
