/**
 * A small JT/T 808 terminal for tests over real TCP, with its own encoder and reply reader (not
 * drivers/jt808: a bug shared with the codec would cancel out). Frames per
 * ../shared/domain/4-jt808.md §4.2–4.5: header+body, XOR check, 7E/7D escaping, 7E flags.
 */
import net from 'node:net';

export interface Fix {
  lat: number;
  lon: number;
  speedKmh?: number;
  heading?: number;
  altitudeM?: number;
  /** ms since epoch; written as BCD UTC+8 (whole seconds). */
  ts: number;
  alarm?: number;
  /** Default 0x000C0003 (ACC on, located, GPS + BeiDou). */
  status?: number;
  mileageKm?: number;
}

export interface Reply {
  msgId: number;
  /** The terminal serial it answers. */
  replySerial: number;
  /** 0x8001: the message id it answers. */
  replyMsgId?: number;
  result: number;
  /** 0x8100 with result 0. */
  authCode?: string;
  v2019: boolean;
}

const bcd = (digits: string): Buffer => Buffer.from(digits, 'hex');
const two = (n: number) => String(n).padStart(2, '0');

function escapeAndFlag(raw: Buffer): Buffer {
  const out: number[] = [0x7e];
  for (const b of raw) {
    if (b === 0x7e) out.push(0x7d, 0x02);
    else if (b === 0x7d) out.push(0x7d, 0x01);
    else out.push(b);
  }
  out.push(0x7e);
  return Buffer.from(out);
}

/** One frame of `msgId` from `phone` (2013: 12 digits, 2019: 20 digits). */
export function terminalFrame(msgId: number, phone: string, serial: number, body: Buffer, v2019 = false): Buffer {
  const head = Buffer.alloc(v2019 ? 17 : 12);
  head.writeUInt16BE(msgId, 0);
  head.writeUInt16BE((v2019 ? 0x4000 : 0) | body.length, 2);
  if (v2019) {
    head[4] = 1;
    bcd(phone.padStart(20, '0')).copy(head, 5);
    head.writeUInt16BE(serial, 15);
  } else {
    bcd(phone.padStart(12, '0')).copy(head, 4);
    head.writeUInt16BE(serial, 10);
  }
  const content = Buffer.concat([head, body]);
  let x = 0;
  for (const b of content) x ^= b;
  return escapeAndFlag(Buffer.concat([content, Buffer.from([x])]));
}

export function locationBody(f: Fix): Buffer {
  const b = Buffer.alloc(28);
  const status = f.status ?? 0x000c0003;
  b.writeUInt32BE((f.alarm ?? 0) >>> 0, 0);
  b.writeUInt32BE(status >>> 0, 4);
  b.writeUInt32BE(Math.round(Math.abs(f.lat) * 1e6), 8);
  b.writeUInt32BE(Math.round(Math.abs(f.lon) * 1e6), 12);
  b.writeUInt16BE(f.altitudeM ?? 10, 16);
  b.writeUInt16BE(Math.round((f.speedKmh ?? 0) * 10), 18);
  b.writeUInt16BE(f.heading ?? 0, 20);
  const d = new Date(f.ts + 8 * 3_600_000);
  const t = [d.getUTCFullYear() % 100, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  bcd([...t, d.getUTCSeconds()].map(two).join('')).copy(b, 22);
  if (f.mileageKm === undefined) return b;
  const item = Buffer.alloc(6);
  item[0] = 0x01;
  item[1] = 4;
  item.writeUInt32BE(Math.round(f.mileageKm * 10), 2);
  return Buffer.concat([b, item]);
}

export function batchBody(fixes: Fix[], type = 1): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt16BE(fixes.length, 0);
  head[2] = type;
  const items = fixes.map((f) => {
    const l = locationBody(f);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(l.length, 0);
    return Buffer.concat([len, l]);
  });
  return Buffer.concat([head, ...items]);
}

/** 0x0100 body; 2013 field sizes 5/20/7, 2019 11/30/30. */
export function registerBody(plate: string, v2019 = false): Buffer {
  const [m, t, id] = v2019 ? [11, 30, 30] : [5, 20, 7];
  const b = Buffer.alloc(4 + m + t + id + 1);
  b.writeUInt16BE(33, 0);
  b.writeUInt16BE(106, 2);
  b.write('CGTST', 4, 'latin1');
  b.write('SWEEPER', 4 + m, 'latin1');
  b.write('T1', 4 + m + t, 'latin1');
  b[4 + m + t + id] = 1; // blue plate
  return Buffer.concat([b, Buffer.from(plate, 'latin1')]);
}

export function authBody(code: string, v2019 = false): Buffer {
  const c = Buffer.from(code, 'latin1');
  if (!v2019) return c;
  return Buffer.concat([Buffer.from([c.length]), c, Buffer.alloc(15, 0x30), Buffer.alloc(20)]);
}

/** Reads 0x8001 / 0x8100 frames out of a byte stream. */
function parseReplies(buf: Buffer): { replies: Reply[]; rest: Buffer } {
  const replies: Reply[] = [];
  let start = buf.indexOf(0x7e);
  while (start >= 0) {
    const end = buf.indexOf(0x7e, start + 1);
    if (end < 0) return { replies, rest: buf.subarray(start) };
    if (end > start + 1) {
      const raw: number[] = [];
      for (let i = start + 1; i < end; i++) {
        const b = buf[i] as number;
        if (b === 0x7d) raw.push(buf[++i] === 0x02 ? 0x7e : 0x7d);
        else raw.push(b);
      }
      const c = Buffer.from(raw);
      const v2019 = (c.readUInt16BE(2) & 0x4000) !== 0;
      const body = c.subarray(v2019 ? 17 : 12, c.length - 1);
      const msgId = c.readUInt16BE(0);
      if (msgId === 0x8001)
        replies.push({
          msgId,
          v2019,
          replySerial: body.readUInt16BE(0),
          replyMsgId: body.readUInt16BE(2),
          result: body[4] as number,
        });
      else if (msgId === 0x8100)
        replies.push({
          msgId,
          v2019,
          replySerial: body.readUInt16BE(0),
          result: body[2] as number,
          ...(body[2] === 0 ? { authCode: body.subarray(3).toString('latin1') } : {}),
        });
    }
    start = end;
  }
  return { replies, rest: Buffer.alloc(0) };
}

export class TestTerminal {
  private serial = 0;
  private buf = Buffer.alloc(0);
  readonly replies: Reply[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(
    readonly socket: net.Socket,
    readonly phone: string,
    readonly v2019: boolean,
  ) {
    socket.on('data', (chunk: Buffer) => {
      const { replies, rest } = parseReplies(Buffer.concat([this.buf, chunk]));
      this.buf = Buffer.from(rest);
      this.replies.push(...replies);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, phone: string, v2019 = false): Promise<TestTerminal> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new TestTerminal(s, phone, v2019)));
      s.once('error', reject);
    });
  }

  /** Sends raw bytes (garbage, a broken frame). */
  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends a message and waits for the reply to its serial. */
  async send(msgId: number, body: Buffer, timeoutMs = 5000): Promise<Reply> {
    const serial = this.serial++ & 0xffff;
    this.socket.write(terminalFrame(msgId, this.phone, serial, body, this.v2019));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.replies.find((x) => x.replySerial === serial);
      if (r) return r;
      if (this.closed) throw new Error(`connection closed before the reply to serial ${serial}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply to 0x${msgId.toString(16)} serial ${serial}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Registers, then authenticates with the code it got; returns the auth reply. */
  async login(plate = 'ZJA0001'): Promise<Reply> {
    const reg = await this.send(0x0100, registerBody(plate, this.v2019));
    if (reg.result !== 0 || reg.authCode === undefined) return reg;
    return this.send(0x0102, authBody(reg.authCode, this.v2019));
  }

  /** Resolves when the server closes the connection. */
  async waitClosed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`connection of ${this.phone} still open after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
