/**
 * The driver contract (after EdgeX's device-service SDK and Telegraf's input/parser split).
 *
 *   transport (bytes in/out, I/O)  ->  codec (bytes <-> frames, pure)  ->  definition (frames -> Readings)
 *
 * A driver knows nothing of MQTT, batching or the outbox: it hands Readings and Events to its
 * context, and the edge agent takes it from there.
 */
import type { z } from 'zod';
import type { Clock } from './clock.js';
import type { DecodeReason } from './errors.js';
import type { FieldName } from './fields.js';
import type { Logger } from './log.js';
import type { CityEvent, DeviceKind, Reading } from './reading.js';

/** Result of splitting a byte stream into frames. Pure. */
export interface SplitResult {
  /** Complete candidate frames, in order. */
  frames: Buffer[];
  /** Bytes kept for the next chunk (an incomplete frame at the end). */
  rest: Buffer;
  /** Bytes thrown away because they belong to no frame (line noise between frames). */
  discarded: number;
}

/**
 * Bytes <-> typed frames. Pure and synchronous: no I/O, no clock, no logging.
 * `decode` throws DecodeError for a frame it refuses.
 */
export interface FrameCodec<Frame, Out = never> {
  readonly id: string;
  split(buf: Buffer): SplitResult;
  decode(frame: Buffer): Frame;
  encode?(message: Out): Buffer;
}

/** A duplex byte stream: serial port, TCP connection, pty. Knows nothing of frames. */
export interface ByteTransport {
  /** Human-readable address for logs: `serial:/dev/ttyUSB0@9600`. */
  readonly address: string;
  open(): Promise<void>;
  write(data: Buffer): Promise<void>;
  close(): Promise<void>;
  onData(listener: (chunk: Buffer) => void): void;
  /** Called when the stream ends by itself (cable pulled, pty closed); not after close(). */
  onClose(listener: (err?: Error) => void): void;
}

/** The device as the gateway config describes it. */
export interface DeviceIdentity {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly asset?: string;
}

/** A Reading as a driver produces it; the agent adds device, kind and asset. */
export type DriverReading = Omit<Reading, 'device' | 'kind' | 'asset'>;
export type DriverEvent = Omit<CityEvent, 'device' | 'asset'>;

/** Everything a driver instance receives. One object, not positional parameters. */
export interface DriverContext<Options> {
  readonly device: DeviceIdentity;
  readonly options: Options;
  readonly transport: ByteTransport;
  readonly log: Logger;
  readonly clock: Clock;
  emitReading(reading: DriverReading): void;
  emitEvent(event: DriverEvent): void;
  /** Reported once per transition; the agent turns it into an `online`/`offline` Event. */
  setAvailability(online: boolean, reason?: string): void;
  /** Counts a frame the codec refused (the agent exports it as a metric labelled by device and reason). */
  countDecodeError(reason: DecodeReason): void;
  /** Counts bytes that belonged to no frame. */
  countDiscardedBytes(n: number): void;
}

export interface DriverInstance {
  /** Opens the transport and starts producing. Throws StartupError when the device cannot be reached. */
  start(): Promise<void>;
  /** Idempotent; nothing is emitted after it resolves. */
  stop(): Promise<void>;
}

export type TransportType = 'serial' | 'tcp';

export interface DriverDefinition<Options = unknown> {
  /** kebab-case, stable forever: it is written into gateway configs. */
  readonly id: string;
  readonly title: string;
  /** Device kinds this driver can serve. */
  readonly kinds: readonly DeviceKind[];
  readonly transports: readonly TransportType[];
  /** Per-device options; strict, every field described. */
  readonly optionsSchema: z.ZodType<Options>;
  /** Every field this driver may put into a Reading. */
  readonly fields: readonly FieldName[];
  /** Must not do I/O: build state only. */
  create(ctx: DriverContext<Options>): DriverInstance;
}
