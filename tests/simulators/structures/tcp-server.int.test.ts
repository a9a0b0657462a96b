/**
 * The structure simulators' Modbus TCP server on a real loopback socket: pipelined requests are
 * all answered with their own transaction ids (and, with jittered latency, not necessarily in
 * order), bad functions, addresses and units get exceptions, and a stream that is not Modbus TCP
 * is cut off while other connections go on.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StructureSim, startStructureSim } from '../../../simulators/structures/city.js';

const FROZEN = Date.UTC(2026, 0, 15, 0, 0, 0);

/** A raw client: writes bytes, collects MBAP answers by transaction id. */
class RawClient {
  private buf = Buffer.alloc(0);
  readonly answers: { tid: number; unit: number; pdu: Buffer }[] = [];
  closed = false;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 7 && this.buf.length >= 6 + this.buf.readUInt16BE(4)) {
        const len = this.buf.readUInt16BE(4);
        this.answers.push({
          tid: this.buf.readUInt16BE(0),
          unit: this.buf[6] as number,
          pdu: Buffer.from(this.buf.subarray(7, 6 + len)),
        });
        this.buf = this.buf.subarray(6 + len);
      }
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }
  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }
  async until(pred: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }
}

function request(tid: number, unit: number, pdu: number[]): Buffer {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(tid, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(pdu.length + 1, 4);
  b[6] = unit;
  Buffer.from(pdu).copy(b, 7);
  return b;
}

describe('Modbus TCP server of a simulated logger', () => {
  let sim: StructureSim;
  let port: number;
  const clients: RawClient[] = [];
  const connect = async () => {
    const c = await RawClient.connect(port);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    // latency 20 ms ± 50 %: pipelined answers overtake each other
    sim = await startStructureSim({
      tunnels: 1,
      realNow: () => FROZEN,
      latencyMs: 20,
      seed: 4,
      names: { tunnel: ['XH-TN001'] },
    });
    port = sim.loggers[0]?.tcp.port as number;
  });

  afterAll(async () => {
    for (const c of clients) c.socket.destroy();
    await sim?.stop();
  });

  it('listens on loopback only, under the name it was given', () => {
    expect(sim.loggers[0]?.tcp.host).toBe('127.0.0.1');
    expect(sim.loggers.map((l) => l.logger.id)).toEqual(['XH-TN001']);
  });

  it('answers 16 requests sent in one write, each with its own transaction id and registers', async () => {
    const client = await connect();
    const expected = sim.logger('XH-TN001').read('input', 0, 10) as number[];
    // request i reads one register at address i % 10, with transaction id 1000 + i
    client.socket.write(
      Buffer.concat(Array.from({ length: 16 }, (_, i) => request(1000 + i, 1, [4, 0, i % 10, 0, 1]))),
    );
    await client.until(() => client.answers.length >= 16);
    expect(client.answers).toHaveLength(16);
    const byTid = new Map(client.answers.map((a) => [a.tid, a]));
    for (let i = 0; i < 16; i++) {
      const a = byTid.get(1000 + i);
      expect(a?.unit).toBe(1);
      expect(a?.pdu.toString('hex')).toBe(`0402${(expected[i % 10] as number).toString(16).padStart(4, '0')}`);
    }
    const order = client.answers.map((a) => a.tid);
    expect(order).not.toEqual([...order].sort((x, y) => x - y)); // some overtook others
  });

  it('answers requests beyond 16 in flight with exception 06 (busy), at once', async () => {
    const client = await connect();
    client.socket.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => request(2000 + i, 1, [4, 0, 0, 0, 1]))));
    await client.until(() => client.answers.length >= 20);
    const busy = client.answers.filter((a) => a.pdu.toString('hex') === '8406').map((a) => a.tid);
    expect(busy).toEqual([2016, 2017, 2018, 2019]);
  });

  it('answers exceptions: 01 for an unknown function, 02 for a register it lacks, 03 for a bad quantity, 0B for another unit', async () => {
    const client = await connect();
    client.socket.write(
      Buffer.concat([
        request(1, 1, [0x2b, 0x0e, 0x01, 0x00]),
        request(2, 1, [4, 0, 0, 0, 11]),
        request(3, 1, [3, 0, 0, 0, 1]),
        request(4, 1, [4, 0, 0, 0, 126]),
        request(5, 9, [4, 0, 0, 0, 1]),
        request(6, 255, [4, 0, 0, 0, 1]),
      ]),
    );
    await client.until(() => client.answers.length >= 6);
    const pdu = (tid: number) => client.answers.find((a) => a.tid === tid)?.pdu.toString('hex');
    expect([pdu(1), pdu(2), pdu(3), pdu(4), pdu(5)]).toEqual(['ab01', '8402', '8302', '8403', '840b']);
    expect(pdu(6)?.slice(0, 4)).toBe('0402'); // unit 255 reaches the only slave, as TCP devices do
  });

  it('writes its sampling interval with 06 and reads it back with 03', async () => {
    const client = await connect();
    client.socket.write(request(7, 1, [6, 0x10, 0x02, 0, 30]));
    await client.until(() => client.answers.length >= 1);
    client.socket.write(request(8, 1, [3, 0x10, 0x02, 0, 1]));
    await client.until(() => client.answers.length >= 2);
    expect(client.answers.map((a) => a.pdu.toString('hex'))).toEqual(['061002001e', '0302001e']);
  });

  it('misbehaves on request for drills: silent, half an answer then close, exception 04; then recovers', async () => {
    const tcp = sim.loggers[0]?.tcp;
    if (!tcp) throw new Error('no logger');
    try {
      tcp.fault = 'silent';
      const quiet = await connect();
      quiet.socket.write(request(20, 1, [4, 0, 0, 0, 1]));
      await quiet.until(() => quiet.answers.length > 0, 300);
      expect(quiet.answers).toEqual([]);

      tcp.fault = 'close-mid-frame';
      const cut = await connect();
      let bytes = 0;
      cut.socket.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      cut.socket.write(request(21, 1, [4, 0, 0, 0, 1]));
      await cut.until(() => cut.closed);
      expect(cut.closed).toBe(true);
      expect(bytes).toBe(6); // half of the 11-byte answer
      expect(cut.answers).toEqual([]);

      tcp.fault = 'device-failure';
      const failing = await connect();
      failing.socket.write(request(22, 1, [4, 0, 0, 0, 1]));
      await failing.until(() => failing.answers.length > 0);
      expect(failing.answers[0]?.pdu.toString('hex')).toBe('8404');
      expect(() => {
        tcp.fault = 'bogus' as never;
      }).toThrow(/TCP fault must be one of/);
    } finally {
      tcp.fault = 'none';
    }
    const fine = await connect();
    fine.socket.write(request(23, 1, [4, 0, 0, 0, 1]));
    await fine.until(() => fine.answers.length > 0);
    expect(fine.answers[0]?.pdu.toString('hex').slice(0, 4)).toBe('0402');
  });

  it('closes a connection that does not speak Modbus TCP, and keeps serving the others', async () => {
    const good = await connect();
    const bad = await connect();
    bad.socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await bad.until(() => bad.closed);
    expect(bad.closed).toBe(true);
    good.socket.write(request(9, 1, [4, 0, 0, 0, 1]));
    await good.until(() => good.answers.length >= 1);
    expect(good.answers[0]?.tid).toBe(9);
    expect(sim.loggers[0]?.tcp.stats.framingErrors).toBe(1);
  });
});
