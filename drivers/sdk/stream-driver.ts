/**
 * The glue every stream protocol driver (NMEA, JT/T 808, CJ/T 188) shares: transport chunks ->
 * codec.split -> codec.decode -> onFrame. Refused frames go to onDecodeError; nothing thrown by
 * the codec or the driver's own handler escapes the transport's data callback (DESIGN §6).
 * When the transport closes by itself it is reopened after `reopenDelayMs`, until stop().
 */
import type { ByteTransport, FrameCodec } from './driver.js';
import { DecodeError, describeError } from './errors.js';
import type { Logger } from './log.js';
import { openTransport } from './open-transport.js';

/** Transports built from config may carry their reconnect delay (gateway config `transport.reopenDelay`). */
export interface ReopenHint {
  /** Wait before reopening a transport that closed, ms. */
  readonly reopenDelayMs?: number;
}

export const DEFAULT_REOPEN_DELAY_MS = 2000;

/** The reopen delay a transport asks for, or the default. */
export function reopenDelayOf(transport: ByteTransport): number {
  const hint = (transport as ByteTransport & ReopenHint).reopenDelayMs;
  return typeof hint === 'number' && hint >= 0 ? hint : DEFAULT_REOPEN_DELAY_MS;
}

export interface StreamDriverOptions<Frame> {
  transport: ByteTransport;
  codec: FrameCodec<Frame, unknown>;
  /** Child logger with component and device bound. */
  log: Logger;
  /** Called for each decoded frame, in stream order. Exceptions are logged and swallowed. */
  onFrame(frame: Frame): void;
  /** Called for each refused frame, after a debug log line with the frame in hex. */
  onDecodeError(err: DecodeError): void;
  /** Called with the count of bytes that belonged to no frame. */
  onDiscarded?(bytes: number): void;
  /** Called after the transport closed by itself, before the reopen is scheduled. */
  onTransportClosed?(err?: Error): void;
  /** Wait before reopening, ms. Default: the transport's hint, else 2000. */
  reopenDelayMs?: number;
}

export interface StreamDriver {
  /** Opens the transport; throws StartupError when it cannot be opened. */
  start(): Promise<void>;
  /** Idempotent. Closes the transport and cancels a pending reopen; no frame is delivered after it resolves. */
  stop(): Promise<void>;
  /** Writes to the transport (acks, requests). */
  write(data: Buffer): Promise<void>;
}

export function createStreamDriver<Frame>(opts: StreamDriverOptions<Frame>): StreamDriver {
  const { transport, codec, log } = opts;
  const reopenDelayMs = opts.reopenDelayMs ?? reopenDelayOf(transport);
  let rest: Buffer = Buffer.alloc(0);
  let running = false;
  let reopenTimer: NodeJS.Timeout | undefined;

  const handleChunk = (chunk: Buffer): void => {
    if (!running) return;
    try {
      const { frames, rest: tail, discarded } = codec.split(rest.length ? Buffer.concat([rest, chunk]) : chunk);
      rest = tail;
      if (discarded > 0) opts.onDiscarded?.(discarded);
      for (const frame of frames) {
        if (!running) return;
        handleFrame(frame);
      }
    } catch (err) {
      // a split that throws is a codec bug: drop the buffer so one bad chunk cannot wedge the stream
      rest = Buffer.alloc(0);
      log.error({ err }, 'Frame splitter failed');
    }
  };

  const handleFrame = (bytes: Buffer): void => {
    let frame: Frame;
    try {
      frame = codec.decode(bytes);
    } catch (err) {
      const decodeError =
        err instanceof DecodeError ? err : new DecodeError('bad-frame', `codec failed: ${describeError(err)}`, bytes);
      log.debug(
        { reason: decodeError.reason, frameHex: decodeError.frameHex, offset: decodeError.offset },
        'Frame refused',
      );
      safely(() => opts.onDecodeError(decodeError), 'Decode error handler failed');
      return;
    }
    safely(() => opts.onFrame(frame), 'Frame handler failed');
  };

  const safely = (fn: () => void, message: string): void => {
    try {
      fn();
    } catch (err) {
      log.error({ err }, message);
    }
  };

  const scheduleReopen = (): void => {
    if (!running || reopenTimer) return;
    reopenTimer = setTimeout(() => {
      reopenTimer = undefined;
      if (!running) return;
      transport.open().then(
        () => {
          if (running) log.info({ address: transport.address }, 'Transport reopened');
          else void transport.close().catch(() => undefined);
        },
        (err: unknown) => {
          log.debug({ err: describeError(err), address: transport.address }, 'Transport reopen failed');
          scheduleReopen();
        },
      );
    }, reopenDelayMs);
    reopenTimer.unref?.();
  };

  transport.onData(handleChunk);
  transport.onClose((err) => {
    if (!running) return;
    rest = Buffer.alloc(0);
    log.warn(
      { err: err ? describeError(err) : undefined, address: transport.address, reopenDelayMs },
      'Transport closed',
    );
    safely(() => opts.onTransportClosed?.(err), 'Transport close handler failed');
    scheduleReopen();
  });

  return {
    async start() {
      if (running) return;
      await openTransport(transport);
      rest = Buffer.alloc(0);
      running = true;
    },
    async stop() {
      if (!running && !reopenTimer) return;
      running = false;
      if (reopenTimer) clearTimeout(reopenTimer);
      reopenTimer = undefined;
      rest = Buffer.alloc(0);
      await transport.close();
    },
    write(data) {
      return transport.write(data);
    },
  };
}
