/**
 * A scripted RS-485 bus for poller tests: an in-memory transport whose "meters" answer each
 * request the script sees, after a delay on the (fake) timers. The script may also push stray
 * bytes at any time.
 */
import { encodeFrame } from '../../../drivers/cjt188/codec.js';
import type { ByteTransport } from '../../../drivers/sdk/driver.js';
import { createMemoryTransport, type MemoryTransport } from '../../helpers/memory-transport.js';

export interface Reply {
  bytes: Buffer;
  delayMs: number;
}

export interface ScriptedBus {
  transport: ByteTransport;
  memory: MemoryTransport;
  /** Every request written, with the fake-clock time it was written at. */
  requests: { at: number; bytes: Buffer }[];
  /** Pushes bytes onto the line after delayMs. */
  later(bytes: Buffer, delayMs: number): void;
}

export function createScriptedBus(answer: (request: Buffer) => Reply[]): ScriptedBus {
  const memory = createMemoryTransport({ address: 'memory:rs485' });
  const requests: { at: number; bytes: Buffer }[] = [];
  const later = (bytes: Buffer, delayMs: number) => {
    setTimeout(() => {
      if (memory.isOpen) memory.push(bytes);
    }, delayMs);
  };
  const transport: ByteTransport = {
    address: memory.address,
    open: () => memory.open(),
    close: () => memory.close(),
    onData: (l) => memory.onData(l),
    onClose: (l) => memory.onClose(l),
    async write(data) {
      await memory.write(data);
      requests.push({ at: Date.now(), bytes: Buffer.from(data) });
      for (const r of answer(Buffer.from(data))) later(r.bytes, r.delayMs);
    },
  };
  return { transport, memory, requests, later };
}

/** Address (A6..A0 text) of a CJ/T 188 read request, or undefined for anything else. */
export function cjt188RequestAddress(request: Buffer): string | undefined {
  const start = request.indexOf(0x68);
  if (start < 0 || request.length < start + 9) return undefined;
  return Buffer.from(request.subarray(start + 2, start + 9))
    .reverse()
    .toString('hex')
    .toUpperCase();
}

function bcd(n: number, bytes: number): number[] {
  const digits = Math.round(n)
    .toString()
    .padStart(bytes * 2, '0');
  const out: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) out.push(Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16));
  return out;
}

/** A 901F metering-data answer of a cold-water meter: cumulative flow in m³ (2 decimals). */
export function cjt188Answer(address: string, cubicMetres: number, ser = 0): Buffer {
  const flow = [...bcd(cubicMetres * 100, 4), 0x2c];
  return encodeFrame({
    meterType: 0x10,
    address,
    control: 0x81,
    data: Uint8Array.from([0x90, 0x1f, ser, ...flow, ...flow, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00]),
  });
}
