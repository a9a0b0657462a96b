/**
 * A Modbus TCP client for one device (one host:port, one unit): keeps the connection up
 * (reconnect with capped doubling backoff), numbers requests with transaction ids, keeps up to
 * `maxInFlight` of them on the wire (many loggers and gateways allow several; 1 is the safe
 * default), and matches each response to its request by transaction id. A response nobody waits
 * for (it came after its timeout, or carries an id never sent) is discarded and counted; a peer
 * that closes mid-frame fails what was in flight and the bytes of the partial frame are counted.
 */
import net from 'node:net';
import { DecodeError, type DecodeReason } from '../sdk/errors.js';
import { ModbusExceptionError, ModbusRequestError } from './errors.js';

export { ModbusExceptionError, ModbusRequestError };

import type { Logger } from '../sdk/log.js';
import type { ReadFunction, RtuResponse } from './codec-rtu.js';
import { decodeTcpResponse, encodeTcpRequest, splitTcp } from './codec-tcp.js';

export interface ModbusTcpClientOptions {
  host: string;
  port: number;
  /** MBAP unit id, 0..255 (1 for most devices, 255 or 0 for some TCP-only ones). */
  unit: number;
  /** Requests on the wire at once (default 1). */
  maxInFlight?: number;
  /** Per request, ms (default 1000). */
  responseTimeoutMs?: number;
  /** Per connect attempt, ms (default 5000). */
  connectTimeoutMs?: number;
  /** First wait before reconnecting, ms (default 500); doubles up to reconnectMaxMs (default 30000). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Requests waiting for a free slot beyond this are refused (default 256). */
  maxQueued?: number;
  log: Logger;
  /** Called once per transition; also `false` once when the very first connect fails. */
  onConnection?(up: boolean, reason: string): void;
  /** Bytes or frames thrown away: an answer nobody waits for, a partial frame at a close, a desynced stream. */
  onDiscard?(reason: 'unknown-transaction' | 'partial-frame' | 'desync', bytes: number): void;
}

export interface ModbusTcpCounters {
  requests: number;
  responses: number;
  timeouts: number;
  exceptions: number;
  /** Responses with a transaction id nobody waits for (late, or never sent). */
  unknownTransaction: number;
  /** Frames the codec refused, by reason. */
  refused: Partial<Record<DecodeReason, number>>;
  /** Answers to another function or unit, or with another register count than asked. */
  mismatched: number;
  /** Connect attempts, successful or not. */
  connectAttempts: number;
  connects: number;
  disconnects: number;
  /** Bytes of a partial frame lost when the peer closed mid-frame, or of a desynced stream. */
  droppedBytes: number;
}

interface Pending {
  tid: number;
  fn: ReadFunction;
  quantity: number;
  frame: Buffer;
  resolve(registers: number[]): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
}

export class ModbusTcpClient {
  readonly address: string;
  readonly counters: ModbusTcpCounters = {
    requests: 0,
    responses: 0,
    timeouts: 0,
    exceptions: 0,
    unknownTransaction: 0,
    refused: {},
    mismatched: 0,
    connectAttempts: 0,
    connects: 0,
    disconnects: 0,
    droppedBytes: 0,
  };
  private socket: net.Socket | undefined;
  private connected = false;
  private running = false;
  private rest = Buffer.alloc(0);
  private nextTid = 1;
  private readonly inFlight = new Map<number, Pending>();
  private readonly queue: Pending[] = [];
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private readonly opts: Required<Omit<ModbusTcpClientOptions, 'onConnection' | 'onDiscard'>> &
    Pick<ModbusTcpClientOptions, 'onConnection' | 'onDiscard'>;
  /** What onConnection last said (undefined: nothing yet). */
  private announced: boolean | undefined;

  constructor(options: ModbusTcpClientOptions) {
    this.opts = {
      maxInFlight: 1,
      responseTimeoutMs: 1000,
      connectTimeoutMs: 5000,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
      maxQueued: 256,
      ...options,
    };
    this.address = `modbus-tcp:${options.host}:${options.port}#${options.unit}`;
    this.backoffMs = this.opts.reconnectMinMs;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Starts connecting (and reconnecting); does not wait for the connection. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    this.failAll(new ModbusRequestError('stopped', 'client stopped'));
    const s = this.socket;
    this.socket = undefined;
    this.connected = false;
    if (s && !s.destroyed) await new Promise<void>((resolve) => s.destroy().once('close', () => resolve()));
  }

  /** Reads `quantity` registers; rejects with ModbusExceptionError, ModbusRequestError or DecodeError. */
  read(fn: ReadFunction, address: number, quantity: number): Promise<number[]> {
    return new Promise<number[]>((resolve, reject) => {
      if (!this.connected) {
        reject(new ModbusRequestError('not-connected', `not connected to ${this.address}`));
        return;
      }
      if (this.queue.length >= this.opts.maxQueued) {
        reject(new ModbusRequestError('queue-full', `${this.queue.length} requests already waiting`));
        return;
      }
      const tid = this.takeTid();
      const frame = encodeTcpRequest({
        transactionId: tid,
        unit: this.opts.unit,
        message: { kind: 'read', unit: 1, function: fn, address, quantity },
      });
      this.queue.push({ tid, fn, quantity, frame, resolve, reject });
      this.pump();
    });
  }

  private takeTid(): number {
    for (;;) {
      const tid = this.nextTid;
      this.nextTid = (this.nextTid + 1) & 0xffff;
      if (!this.inFlight.has(tid) && !this.queue.some((p) => p.tid === tid)) return tid;
    }
  }

  private pump(): void {
    const s = this.socket;
    while (s && this.connected && this.inFlight.size < this.opts.maxInFlight && this.queue.length > 0) {
      const p = this.queue.shift() as Pending;
      this.inFlight.set(p.tid, p);
      this.counters.requests++;
      p.timer = setTimeout(() => {
        if (this.inFlight.get(p.tid) !== p) return;
        this.inFlight.delete(p.tid);
        this.counters.timeouts++;
        p.reject(new ModbusRequestError('timeout', `no answer in ${this.opts.responseTimeoutMs} ms`));
        this.pump();
      }, this.opts.responseTimeoutMs);
      s.write(p.frame);
    }
  }

  private connect(): void {
    if (!this.running) return;
    this.counters.connectAttempts++;
    const s = net.connect({ host: this.opts.host, port: this.opts.port });
    this.socket = s;
    s.setTimeout(this.opts.connectTimeoutMs, () => s.destroy(new Error('connect timeout')));
    let lastError: Error | undefined;
    s.on('error', (err) => {
      lastError = err;
    });
    s.once('connect', () => {
      s.setTimeout(0);
      s.setNoDelay(true);
      this.connected = true;
      this.counters.connects++;
      this.opts.log.info({ address: this.address }, 'Modbus TCP connected');
      this.announce(true, 'connected');
      this.pump();
    });
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.once('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      const wasUp = this.connected;
      this.connected = false;
      if (this.rest.length > 0) {
        // the peer closed in the middle of a frame: those bytes can never be completed
        this.counters.droppedBytes += this.rest.length;
        this.opts.onDiscard?.('partial-frame', this.rest.length);
        this.rest = Buffer.alloc(0);
      }
      const reason = lastError?.message ?? 'closed by peer';
      this.failAll(new ModbusRequestError('connection-lost', `connection lost: ${reason}`));
      if (wasUp) {
        this.counters.disconnects++;
        this.opts.log.warn({ address: this.address, reason }, 'Modbus TCP connection lost');
      } else
        this.opts.log.debug({ address: this.address, reason, retryInMs: this.backoffMs }, 'Modbus TCP connect failed');
      this.announce(false, wasUp ? reason : `cannot connect: ${reason}`);
      if (!this.running) return;
      this.reconnectTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.reconnectMaxMs);
    });
  }

  private announce(up: boolean, reason: string): void {
    if (this.announced === up) return;
    this.announced = up;
    if (!up && this.running === false) return;
    this.opts.onConnection?.(up, reason);
  }

  private failAll(err: Error): void {
    for (const p of [...this.inFlight.values(), ...this.queue]) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.inFlight.clear();
    this.queue.length = 0;
  }

  private onData(chunk: Buffer): void {
    const { frames, rest, discarded, desynced } = splitTcp(
      this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk,
    );
    this.rest = Buffer.from(rest);
    for (const frame of frames) this.onFrame(frame);
    if (desynced) {
      // no byte after a broken header can be trusted to start a frame: start over on a new connection
      this.counters.droppedBytes += discarded;
      this.opts.onDiscard?.('desync', discarded);
      this.opts.log.warn(
        { address: this.address, bytes: discarded },
        'Modbus TCP stream lost its framing; reconnecting',
      );
      this.socket?.destroy(new Error('stream lost its MBAP framing'));
    }
  }

  private onFrame(frame: Buffer): void {
    const tid = frame.readUInt16BE(0);
    const p = this.inFlight.get(tid);
    if (!p) {
      this.counters.unknownTransaction++;
      this.opts.onDiscard?.('unknown-transaction', frame.length);
      this.opts.log.debug(
        { address: this.address, tid },
        'Response to no request in flight (late or unknown); discarded',
      );
      return;
    }
    this.inFlight.delete(tid);
    clearTimeout(p.timer);
    this.settle(p, frame);
    this.pump();
  }

  private settle(p: Pending, frame: Buffer): void {
    let response: RtuResponse;
    try {
      response = decodeTcpResponse(frame).message;
    } catch (err) {
      const e = err instanceof DecodeError ? err : new DecodeError('bad-frame', String(err), frame);
      this.counters.refused[e.reason] = (this.counters.refused[e.reason] ?? 0) + 1;
      p.reject(e);
      return;
    }
    if (frame[6] !== this.opts.unit || response.function !== p.fn) {
      this.counters.mismatched++;
      p.reject(
        new DecodeError(
          'bad-frame',
          `answer from unit ${frame[6]} function ${response.function}, asked unit ${this.opts.unit} function ${p.fn}`,
          frame,
          6,
        ),
      );
      return;
    }
    if (response.kind === 'exception') {
      this.counters.exceptions++;
      p.reject(new ModbusExceptionError(response.exceptionCode, response.exceptionName, response.function));
      return;
    }
    if (response.registers.length !== p.quantity) {
      this.counters.mismatched++;
      const got = response.registers.length;
      p.reject(new DecodeError('short-frame', `short read: asked ${p.quantity} registers, got ${got}`, frame, 8));
      return;
    }
    this.counters.responses++;
    this.backoffMs = this.opts.reconnectMinMs;
    p.resolve(response.registers);
  }
}
