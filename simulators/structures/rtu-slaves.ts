/**
 * Structure loggers as Modbus RTU slaves on one RS-485 line (a socat pty end in tests and the
 * demo): requests for 03/04/06/16 are framed by their length and CRC, anything else by the
 * silence after it; each addressed slave answers after a turnaround plus the time its answer
 * takes on the wire at the line's settings. Broadcast writes (unit 0) are obeyed, never answered.
 * Facts: ../shared/domain/2-modbus.md §2.1 (framing, silence), §2.3 (CRC, low byte first).
 */

import { bitsPerCharacter, type LineSettings, openSerialLine, type SerialLine } from '../common/serial-line.js';
import { crc16Modbus, withCrc } from '../meters/encoding.js';
import { answerPdu, type ModbusSlave, requestDataLength } from './modbus-pdu.js';

export interface RtuRequest {
  unit: number;
  fc: number;
  /** The PDU bytes after the function code. */
  data: Buffer;
}

const MAX_PENDING = 512;

function crcOk(frame: Buffer): boolean {
  const crc = crc16Modbus(frame.subarray(0, frame.length - 2));
  return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >>> 8;
}

/**
 * Cuts the master's bytes into requests. A known function is taken when its CRC is right;
 * otherwise the first byte is noise and skipped. An unknown function waits for the silence that
 * ends every RTU frame (`endOfFrame`), and is taken whole when its CRC is right, so a slave can
 * answer it with exception 01.
 */
export class RtuRequestFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes skipped as noise or broken frames. */
  discarded = 0;

  push(chunk: Buffer): RtuRequest[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: RtuRequest[] = [];
    while (this.buf.length >= 2) {
      const unit = this.buf[0] as number;
      const fc = this.buf[1] as number;
      const length = unit > 247 ? undefined : requestDataLength(fc, this.buf.subarray(2));
      if (length === 'more') break;
      if (length === undefined) {
        // unknown function: only the silence after it says where it ends
        if (unit <= 247 && (fc & 0x80) === 0) break;
        this.skip(1);
        continue;
      }
      const total = 2 + length + 2;
      if (this.buf.length < total) break;
      const frame = this.buf.subarray(0, total);
      if (!crcOk(frame)) {
        this.skip(1);
        continue;
      }
      out.push({ unit, fc, data: Buffer.from(frame.subarray(2, 2 + length)) });
      this.buf = this.buf.subarray(total);
    }
    if (this.buf.length > MAX_PENDING) this.skip(this.buf.length);
    return out;
  }

  /** The line went quiet: what is pending is one whole frame, or noise. */
  endOfFrame(): RtuRequest[] {
    const out: RtuRequest[] = [];
    while (this.buf.length > 0) {
      const frame = this.buf;
      if (frame.length >= 4 && (frame[0] as number) <= 247 && crcOk(frame)) {
        out.push({ unit: frame[0] as number, fc: frame[1] as number, data: Buffer.from(frame.subarray(2, -2)) });
        this.buf = Buffer.alloc(0);
        break;
      }
      // not one frame: the first byte was noise; frames behind it may still be whole
      this.skip(1);
      out.push(...this.push(Buffer.alloc(0)));
    }
    return out;
  }

  get pending(): number {
    return this.buf.length;
  }

  private skip(n: number): void {
    this.discarded += n;
    this.buf = this.buf.subarray(n);
  }
}

export interface RtuSlavesOptions {
  /** A tty path (opened with serialport at `line`) or a line (unit tests). */
  out: string | SerialLine;
  slaves: ReadonlyMap<number, ModbusSlave>;
  /** Default 9600 8N1: what Chinese field loggers usually ship with. [2-modbus §2.1] */
  line?: Partial<LineSettings>;
  /** Slave reaction time before its answer starts, ms. Default 5. */
  turnaroundMs?: number;
  /** Delay answers by their time on the wire at the line's settings. Default true. */
  wireTime?: boolean;
  /**
   * The silence that ends a frame, ms. RTU says 3.5 character times (1.75 ms above 19200 bps);
   * a pty delivers a frame in one chunk but not always, so this is generous. Default 20.
   */
  silenceMs?: number;
}

export interface RtuSlavesStats {
  requests: number;
  answers: number;
  broadcasts: number;
  discardedBytes: number;
}

export interface RtuSlaves {
  readonly line: LineSettings;
  readonly stats: RtuSlavesStats;
  stop(): Promise<void>;
}

export async function startRtuSlaves(opts: RtuSlavesOptions): Promise<RtuSlaves> {
  for (const unit of opts.slaves.keys())
    if (!Number.isInteger(unit) || unit < 1 || unit > 247) throw new Error(`RTU unit id must be 1..247, got ${unit}`);
  const line: LineSettings = { baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1, ...opts.line };
  const port = typeof opts.out === 'string' ? await openSerialLine(opts.out, line) : opts.out;
  const turnaroundMs = opts.turnaroundMs ?? 5;
  const wireTime = opts.wireTime ?? true;
  const silenceMs = opts.silenceMs ?? 20;
  const charMs = (bitsPerCharacter(line) * 1000) / line.baudRate;
  const stats: RtuSlavesStats = { requests: 0, answers: 0, broadcasts: 0, discardedBytes: 0 };
  const framer = new RtuRequestFramer();
  let stopped = false;

  // One talker at a time: answers leave in request order, each after the previous one.
  let lineFreeAt = 0;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn();
    }, ms);
    timers.add(t);
  };

  const handle = (requests: RtuRequest[]) => {
    for (const req of requests) {
      stats.requests++;
      if (req.unit === 0) {
        // [Modbus over serial line §2.1] broadcast: every slave obeys writes, none answers
        stats.broadcasts++;
        if (req.fc === 0x06 || req.fc === 0x10) for (const s of opts.slaves.values()) answerPdu(s, req);
        continue;
      }
      const slave = opts.slaves.get(req.unit);
      if (!slave) continue; // another slave's address: silence
      const answer = withCrc([req.unit, ...answerPdu(slave, req)]);
      const now = Date.now();
      const startAt = Math.max(now + turnaroundMs, lineFreeAt);
      const onWire = wireTime ? answer.length * charMs : 0;
      lineFreeAt = startAt + onWire;
      // the bytes are written when they would have finished arriving, as a UART delivers them
      later(startAt + onWire - now, () => {
        stats.answers++;
        port.write(answer);
      });
    }
    stats.discardedBytes = framer.discarded;
  };

  let silence: NodeJS.Timeout | undefined;
  port.onData((chunk) => {
    if (stopped) return;
    handle(framer.push(chunk));
    if (silence) clearTimeout(silence);
    silence = undefined;
    if (framer.pending > 0)
      silence = setTimeout(() => {
        silence = undefined;
        if (!stopped) handle(framer.endOfFrame());
      }, silenceMs);
  });

  return {
    line,
    stats,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (silence) clearTimeout(silence);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await port.close();
    },
  };
}
