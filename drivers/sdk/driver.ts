/**
 * The driver contract (after EdgeX's device-service SDK and Telegraf's input/parser split).
 *
 *   transport (bytes in/out, I/O)  ->  codec (bytes <-> frames, pure)  ->  definition (frames -> Readings)
 *
 * A driver knows nothing of MQTT, batching or the outbox: it hands Readings and Events to its
 * context, and the edge agent takes it from there.
 */
import type { z } from 'zod';
import type { BusDevice } from './bus-device.js';
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

/** Evidence as a driver produces it (a camera snapshot or clip); the agent adds device and asset. */
export interface DriverEvidence {
  /** When the image or the clip's first frame was taken, ms since epoch. */
  ts: number;
  mediaType: 'image/jpeg' | 'video/mp4';
  /** The media itself (already stamped with time, camera and asset for images). */
  data: Buffer;
  /** A small JPEG preview, when one could be made. */
  thumbnail?: Buffer;
  /** The hub command (`cmd/capture`) this evidence answers, when it answers one. */
  commandId?: string;
  /** Free metadata: preset, profile, width, height, duration, how it was captured. */
  meta?: Record<string, unknown>;
}

/**
 * A small key/value store per device that survives a gateway restart (the last meter reading an
 * interval consumption is computed from). Values must be JSON; writes are batched by the agent.
 */
export interface DeviceStore {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
}

/** A hub command routed to one device (`cmd/capture`, `cmd/sample-interval`). */
export interface DeviceCommand {
  /** Command name, the last topic segment: `capture`, `sample-interval`. */
  readonly name: string;
  /** The command's id, echoed in results and in evidence it produces. */
  readonly id?: string;
  /** The command's payload, as the hub sent it (the driver validates it). */
  readonly args: Readonly<Record<string, unknown>>;
}

/** What a device-level handler returns; published on `cmd-result` with `ok: true`. Throw to fail. */
export type DeviceCommandResult = Record<string, unknown>;

/** What every driver receives, stream or polled. One object, not positional parameters. */
export interface DriverContextBase<Options> {
  readonly device: DeviceIdentity;
  readonly options: Options;
  readonly log: Logger;
  readonly clock: Clock;
  /** Persistent per-device state (survives restarts of the agent). */
  readonly store: DeviceStore;
  emitReading(reading: DriverReading): void;
  emitEvent(event: DriverEvent): void;
  /** Hands over a snapshot or clip; it travels to the hub through the outbox like telemetry. */
  emitEvidence(evidence: DriverEvidence): void;
  /** Counts a frame the codec refused (the agent exports it as a metric labelled by device and reason). */
  countDecodeError(reason: DecodeReason): void;
  /**
   * Counts a failure that is not a refused frame (a camera that refused the password, a snapshot
   * that was HTML, an ffmpeg run that timed out), by the error's `code`. The agent exports it as
   * `citygrid_edge_device_errors_total{device,code}`. Optional so a test context may leave it out.
   */
  countError?(code: string): void;
}

/** Everything a stream driver instance receives. */
export interface DriverContext<Options> extends DriverContextBase<Options> {
  readonly transport: ByteTransport;
  /** Reported once per transition; the agent turns it into an `online`/`offline` Event. */
  setAvailability(online: boolean, reason?: string): void;
  /** Counts bytes that belonged to no frame. */
  countDiscardedBytes(n: number): void;
}

/**
 * Everything a network driver receives (an ONVIF camera, an HTTP API): it speaks its own protocol
 * to the address in its options, so it gets no byte transport.
 */
export interface NetworkDriverContext<Options> extends DriverContextBase<Options> {
  /** Reported once per transition; the agent turns it into an `online`/`offline` Event. */
  setAvailability(online: boolean, reason?: string): void;
}

/**
 * Everything a polled driver receives. No transport: the bus poller owns the shared port, and
 * reports availability (answers / timeouts) and line noise itself.
 */
export type PolledDriverContext<Options> = DriverContextBase<Options>;

export interface DriverInstance {
  /** Opens the transport and starts producing. Throws StartupError when the device cannot be reached. */
  start(): Promise<void>;
  /** Idempotent; nothing is emitted after it resolves. */
  stop(): Promise<void>;
  /** Handles a hub command addressed to this device; absent when the driver takes none. */
  command?(cmd: DeviceCommand): Promise<DeviceCommandResult>;
}

/** A device on a shared bus, as a polled driver builds it: what the poller needs, plus commands. */
export interface PolledDevice extends BusDevice<unknown> {
  command?(cmd: DeviceCommand): Promise<DeviceCommandResult>;
}

/**
 * Everything a session driver receives: the device is reached through a server the edge runs
 * (a JT/T 808 listener), which routes the device's sessions to it. No transport of its own.
 */
export interface SessionDriverContext<Options> extends DriverContextBase<Options> {
  /** Reported once per transition; the agent turns it into an `online`/`offline` Event. */
  setAvailability(online: boolean, reason?: string): void;
}

/**
 * A device as a server's protocol sees it. The server of `protocol` knows the shape behind it
 * (drivers/jt808/session.ts `Jt808Terminal` plus a `deliver` of that protocol's outcomes).
 */
export interface SessionDevice {
  /** The key the server routes by (a JT/T 808 terminal phone without leading zeros). */
  readonly key: string;
}

export type TransportType = 'serial' | 'tcp';

interface DriverDefinitionBase<Options> {
  /** kebab-case, stable forever: it is written into gateway configs. */
  readonly id: string;
  readonly title: string;
  /** Device kinds this driver can serve. */
  readonly kinds: readonly DeviceKind[];
  /** Per-device options; strict, every field described. */
  readonly optionsSchema: z.ZodType<Options>;
  /** Every field this driver may put into a Reading. */
  readonly fields: readonly FieldName[];
}

/** A device with a line of its own (`transport:` in the gateway config): it reads its stream itself. */
export interface DriverDefinition<Options = unknown> extends DriverDefinitionBase<Options> {
  readonly access?: 'stream';
  readonly transports: readonly TransportType[];
  /** Must not do I/O: build state only. */
  create(ctx: DriverContext<Options>): DriverInstance;
}

/**
 * A device reached over the network by a protocol library of its own (ONVIF over HTTP/SOAP): no
 * `transport` and no `bus` in the gateway config; its options say where it is.
 */
export interface NetworkDriverDefinition<Options = unknown> extends DriverDefinitionBase<Options> {
  readonly access: 'network';
  /** Must not do I/O: build state only. */
  create(ctx: NetworkDriverContext<Options>): DriverInstance;
}

/**
 * A device that connects to a server the edge runs (`server:` in the gateway config): a vehicle
 * terminal dialling the gateway's JT/T 808 listener. The agent runs one listener per `servers:`
 * entry and routes each session to the device its terminal identifies as.
 */
export interface SessionDriverDefinition<Options = unknown> extends DriverDefinitionBase<Options> {
  readonly access: 'session';
  /** The server protocol (`jt808`); a `servers:` entry of the same protocol carries the device. */
  readonly protocol: string;
  /** Must not do I/O: build state only. */
  createSession(ctx: SessionDriverContext<Options>): SessionDevice;
}

/**
 * A device asked in turn on a shared bus (`bus:` in the gateway config): an RS-485 line with many
 * meters or loggers. The agent runs one bus poller per bus and hands it each device's PolledDevice.
 */
export interface PolledDriverDefinition<Options = unknown> extends DriverDefinitionBase<Options> {
  readonly access: 'polled';
  /** The bus protocol (`cjt188`, `modbus-rtu`); a bus may mix protocols, the poller frames with the device asked. */
  readonly protocol: string;
  /** Must not do I/O: build state only. */
  createPolled(ctx: PolledDriverContext<Options>): PolledDevice;
}
