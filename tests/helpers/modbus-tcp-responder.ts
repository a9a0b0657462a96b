/**
 * A small Modbus TCP server for tests and the bench, run as its own process
 * (`node --import tsx tests/helpers/modbus-tcp-responder.ts --count N [--hold MS]`): it prints
 * `listening <port>` per server. It frames MBAP itself (not with the driver codecs, so a shared
 * bug cannot cancel out). Register r (FC03/FC04) holds r & 0xffff. Addresses from 0xFF00 misbehave
 * on purpose:
 *   0xFF00 exception 02        0xFF01 half a response, then the connection is closed
 *   0xFF02 answered as the other read function   0xFF03 one register short
 *   0xFF04 answered after 1500 ms (late)          0xFF05 preceded by an answer with an unknown id
 *   0xFF10 two registers: the most requests this connection ever had waiting at once, connections so far
 * With --hold MS, requests are answered MS after they arrive, newest first (to prove the client
 * matches by transaction id).
 *
 * With --bank FILE (JSON, re-read when it changes), registers hold `values["<fn>:<address>"]`, and a
 * `wave` entry serves an acceleration sample buffer: a u32 sample counter at `counterAddress`
 * followed by the last `count` samples of a sine (`ampCounts`, `freqHz`) sampled at `rateHz`.
 * With --rtu TTY --unit N, the same registers are also served as Modbus RTU slave N on a serial
 * line (a pty end), with a CRC computed here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { openSerialLine } from '../../simulators/common/serial-line.js';

export interface RegisterBank {
  values?: Record<string, number>;
  wave?: { function: number; counterAddress: number; count: number; rateHz: number; freqHz: number; ampCounts: number };
}

const startedAt = Date.now();
let bankFile: string | undefined;
let bank: RegisterBank = {};
let bankMtime = 0;

function currentBank(): RegisterBank {
  if (!bankFile) return bank;
  const m = statSync(bankFile).mtimeMs;
  if (m !== bankMtime) {
    bank = JSON.parse(readFileSync(bankFile, 'utf8')) as RegisterBank;
    bankMtime = m;
  }
  return bank;
}

/** The registers of one read, all taken at the same instant (the counter matches the buffer). */
export function registersOf(fn: number, address: number, quantity: number, now = Date.now()): number[] {
  const b = currentBank();
  const w = b.wave;
  const counter = w ? Math.floor(((now - startedAt) / 1000) * w.rateHz) + w.count : 0;
  return Array.from({ length: quantity }, (_, i) => {
    const a = (address + i) & 0xffff;
    if (w && fn === w.function) {
      if (a === w.counterAddress) return (counter >>> 16) & 0xffff;
      if (a === w.counterAddress + 1) return counter & 0xffff;
      const k = a - w.counterAddress - 2;
      if (k >= 0 && k < w.count) {
        const n = counter - w.count + k;
        return Math.round(w.ampCounts * Math.sin((2 * Math.PI * w.freqHz * n) / w.rateHz)) & 0xffff;
      }
    }
    return b.values?.[`${fn}:${a}`] ?? a;
  });
}

function mbap(tid: number, unit: number, pdu: number[]): Buffer {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(tid, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(pdu.length + 1, 4);
  b[6] = unit;
  Buffer.from(pdu).copy(b, 7);
  return b;
}

const words = (values: number[]) => values.flatMap((v) => [(v >>> 8) & 0xff, v & 0xff]);

export function serveModbusTcp(holdMs: number): Promise<net.Server> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let waiting = 0;
    let maxWaiting = 0;
    const held: (() => void)[] = [];
    let holding = false;
    const send = (b: Buffer) => {
      if (!socket.destroyed) socket.write(b);
    };
    /** The answer to send now, or undefined for one sent later (or never). */
    const reply = (tid: number, unit: number, fn: number, address: number, quantity: number): Buffer | undefined => {
      const regs = registersOf(fn, address, quantity);
      const read = (f: number, values: number[]) => mbap(tid, unit, [f, values.length * 2, ...words(values)]);
      if (fn !== 3 && fn !== 4) return mbap(tid, unit, [fn | 0x80, 1]);
      if (address === 0xff00) return mbap(tid, unit, [fn | 0x80, 2]);
      if (address === 0xff01) {
        setTimeout(() => socket.destroy(), 20);
        return read(fn, regs).subarray(0, 9);
      }
      if (address === 0xff02) return read(fn === 3 ? 4 : 3, regs);
      if (address === 0xff03) return read(fn, regs.slice(1));
      if (address === 0xff04) {
        setTimeout(() => send(read(fn, regs)), 1500);
        return undefined;
      }
      if (address === 0xff05) send(read(fn, regs).fill(0x77, 0, 1));
      if (address === 0xff10) return read(fn, [maxWaiting, connections]);
      return read(fn, regs);
    };
    const answer = (tid: number, unit: number, fn: number, address: number, quantity: number) => {
      waiting--;
      const b = reply(tid, unit, fn, address, quantity);
      if (b) send(b);
    };
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 12) {
        const len = buf.readUInt16BE(4);
        if (buf.length < 6 + len) break;
        const f = buf.subarray(0, 6 + len);
        buf = buf.subarray(6 + len);
        const tid = f.readUInt16BE(0);
        const unit = f[6] as number;
        const fn = f[7] as number;
        const address = f.readUInt16BE(8);
        const quantity = f.readUInt16BE(10);
        waiting++;
        maxWaiting = Math.max(maxWaiting, waiting);
        if (holdMs <= 0) answer(tid, unit, fn, address, quantity);
        else {
          held.unshift(() => answer(tid, unit, fn, address, quantity));
          if (!holding) {
            holding = true;
            setTimeout(() => {
              holding = false;
              for (const a of held.splice(0)) a();
            }, holdMs);
          }
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

function withCrc(bytes: number[]): Buffer {
  const b = Buffer.alloc(bytes.length + 2);
  Buffer.from(bytes).copy(b);
  b.writeUInt16LE(crc16(b.subarray(0, bytes.length)), bytes.length);
  return b;
}

/** Answers FC03/FC04 reads to `unit` on a serial line; other units' requests are ignored. */
export async function serveModbusRtu(tty: string, unit: number): Promise<void> {
  const line = await openSerialLine(tty, { baudRate: 9600, parity: 'none' });
  let buf = Buffer.alloc(0);
  line.onData((chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const f = buf.subarray(0, 8);
      if (crc16(f.subarray(0, 6)) !== f.readUInt16LE(6)) {
        buf = buf.subarray(1);
        continue;
      }
      buf = buf.subarray(8);
      const fn = f[1] as number;
      if (f[0] !== unit || (fn !== 3 && fn !== 4)) continue;
      const regs = registersOf(fn, f.readUInt16BE(2), f.readUInt16BE(4));
      line.write(withCrc([unit, fn, regs.length * 2, ...words(regs)]));
    }
  });
}

export interface ResponderProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly ports: number[];
  /** SIGTERM by PID; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Starts the responder as a child process with `count` servers; resolves once all listen. */
export function startModbusTcpResponder(
  opts: { count?: number; holdMs?: number; bank?: string; rtu?: { tty: string; unit: number } } = {},
): Promise<ResponderProcess> {
  const count = opts.count ?? 1;
  const args = ['--count', String(count), '--hold', String(opts.holdMs ?? 0)];
  if (opts.bank) args.push('--bank', opts.bank);
  if (opts.rtu) args.push('--rtu', opts.rtu.tty, '--unit', String(opts.rtu.unit));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid as number;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const ports: number[] = [];
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      for (const m of text.matchAll(/listening (\d+)\n/g)) if (!ports.includes(Number(m[1]))) ports.push(Number(m[1]));
      if (ports.length === count && text.includes('ready\n')) resolve({ pid, child, ports, stop });
    });
    child.once('exit', (code) => reject(new Error(`modbus tcp responder exited with ${code} before listening`)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, def: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : def;
  };
  const count = arg('--count', 1);
  const hold = arg('--hold', 0);
  const opt = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  bankFile = opt('--bank');
  const rtu = opt('--rtu');
  if (rtu) await serveModbusRtu(rtu, arg('--unit', 1));
  for (let i = 0; i < count; i++) {
    const server = await serveModbusTcp(hold);
    const addr = server.address() as net.AddressInfo;
    process.stdout.write(`listening ${addr.port}\n`);
  }
  process.stdout.write('ready\n');
}
