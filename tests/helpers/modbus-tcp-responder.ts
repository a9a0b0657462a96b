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
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

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
      const regs = Array.from({ length: quantity }, (_, i) => (address + i) & 0xffff);
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

export interface ResponderProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly ports: number[];
  /** SIGTERM by PID; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Starts the responder as a child process with `count` servers; resolves once all listen. */
export function startModbusTcpResponder(opts: { count?: number; holdMs?: number } = {}): Promise<ResponderProcess> {
  const count = opts.count ?? 1;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--count', String(count), '--hold', String(opts.holdMs ?? 0)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
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
      if (ports.length === count) resolve({ pid, child, ports, stop });
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
  for (let i = 0; i < count; i++) {
    const server = await serveModbusTcp(hold);
    const addr = server.address() as net.AddressInfo;
    process.stdout.write(`listening ${addr.port}\n`);
  }
}
