/**
 * The error taxonomy shared by every part of citygrid. Each class carries a stable `code`
 * (what metrics and logs key on) and an ES2022 `cause`. Throw these; log them once, at the
 * boundary that decides what to do (the transport loop, the ingest, the CLI).
 */
export class CitygridError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem found while validating a config file. */
export interface ConfigIssue {
  /** The file the problem is in. */
  file: string;
  /** Dotted path inside the file, e.g. `devices[0].transport.path`. */
  path: string;
  /** What was expected there, in words. */
  message: string;
}

/** A config file that cannot be used. Carries every problem found, not only the first. */
export class ConfigError extends CitygridError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super('CONFIG_INVALID', issues.map((i) => `${i.file}: ${i.path || '(root)'}: ${i.message}`).join('\n'));
    this.issues = issues;
  }
}

/** Closed set of reasons a frame can be refused by a codec. */
export type DecodeReason =
  | 'bad-checksum'
  | 'short-frame'
  | 'bad-frame'
  | 'unknown-type'
  | 'out-of-range'
  | 'bad-field'
  | 'too-long';

/** A frame a codec could not decode. Codecs throw it; transports count it, log it and go on. */
export class DecodeError extends CitygridError {
  readonly reason: DecodeReason;
  /** The offending bytes (hex), for the debug log and `citygrid decode`. */
  readonly frameHex: string;
  /** Byte offset inside the frame where the problem was found, when known. */
  readonly offset: number | undefined;
  constructor(reason: DecodeReason, message: string, frame?: Uint8Array | string, offset?: number) {
    super('DECODE_FAILED', message);
    this.reason = reason;
    this.frameHex =
      frame === undefined
        ? ''
        : typeof frame === 'string'
          ? Buffer.from(frame, 'latin1').toString('hex')
          : Buffer.from(frame).toString('hex');
    this.offset = offset;
  }
}

/** A device that reported a failure of its own (Modbus exception, SOAP fault). */
export class DeviceError extends CitygridError {
  readonly deviceCode: string | number;
  constructor(deviceCode: string | number, message: string, options?: { cause?: unknown }) {
    super('DEVICE_ERROR', message, options);
    this.deviceCode = deviceCode;
  }
}

/** A transport or device that could not be started; `retryable` tells the supervisor whether to try again. */
export class StartupError extends CitygridError {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super('STARTUP_FAILED', message, options);
    this.retryable = retryable;
  }
}

/** Closed set of reasons the hub refuses an uplink message. They are the `reason` label of the reject counter. */
export type RejectReason =
  | 'bad-json'
  | 'bad-envelope'
  | 'bad-topic'
  | 'gateway-mismatch'
  | 'too-large'
  | 'unknown-gateway';

/** An uplink message the hub refused. */
export class RejectedMessageError extends CitygridError {
  readonly reason: RejectReason;
  constructor(reason: RejectReason, message: string, options?: { cause?: unknown }) {
    super('MESSAGE_REJECTED', message, options);
    this.reason = reason;
  }
}

/** Turns anything thrown into a message string without losing the code of our own errors. */
export function describeError(err: unknown): string {
  if (err instanceof CitygridError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
