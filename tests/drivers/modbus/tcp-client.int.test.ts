/**
 * The Modbus TCP client against a real TCP server process (tests/helpers/modbus-tcp-responder.ts,
 * which frames MBAP on its own): several requests in flight answered out of order, exceptions,
 * wrong function, short reads, late and unknown transaction ids, and a peer that closes mid-frame,
 * after which the client reconnects and keeps reading.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusExceptionError, ModbusRequestError, ModbusTcpClient } from '../../../drivers/modbus/tcp-client.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { eventually } from '../../helpers/cli-process.js';
import { type ResponderProcess, startModbusTcpResponder } from '../../helpers/modbus-tcp-responder.js';

async function connected(client: ModbusTcpClient): Promise<void> {
  client.start();
  await eventually(async () => (client.isConnected ? true : undefined), 10_000, 'connection');
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('resolved; a rejection was expected');
}

describe('ModbusTcpClient, several in flight', () => {
  let responder: ResponderProcess;
  let client: ModbusTcpClient;
  beforeAll(async () => {
    responder = await startModbusTcpResponder({ holdMs: 100 });
    client = new ModbusTcpClient({
      host: '127.0.0.1',
      port: responder.ports[0] as number,
      unit: 1,
      maxInFlight: 4,
      log: silentLogger(),
    });
    await connected(client);
  });
  afterAll(async () => {
    await client.stop();
    await responder.stop();
  });

  it('keeps 4 on the wire and matches answers given newest first by transaction id', async () => {
    const addresses = [0, 10, 20, 30, 40, 50, 60, 70];
    const results = await Promise.all(addresses.map((a) => client.read(a % 20 === 0 ? 4 : 3, a, 3)));
    expect(results).toEqual(addresses.map((a) => [a, a + 1, a + 2]));
    const [maxWaiting] = await client.read(3, 0xff10, 2);
    expect(maxWaiting).toBe(4);
    expect(client.counters).toMatchObject({ requests: 9, responses: 9, unknownTransaction: 0, timeouts: 0 });
  });
});

describe('ModbusTcpClient, bad answers', () => {
  let responder: ResponderProcess;
  let client: ModbusTcpClient;
  const transitions: string[] = [];
  const discards: string[] = [];
  beforeAll(async () => {
    responder = await startModbusTcpResponder();
    client = new ModbusTcpClient({
      host: '127.0.0.1',
      port: responder.ports[0] as number,
      unit: 1,
      responseTimeoutMs: 300,
      reconnectMinMs: 100,
      log: silentLogger(),
      onConnection: (up, reason) => transitions.push(`${up ? 'up' : 'down'}: ${reason}`),
      onDiscard: (reason, bytes) => discards.push(`${reason} ${bytes}`),
    });
    await connected(client);
  });
  afterAll(async () => {
    await client.stop();
    await responder.stop();
  });

  it('an exception is a ModbusExceptionError with the code, and polling goes on', async () => {
    const err = await rejection(client.read(3, 0xff00, 1));
    expect(err).toBeInstanceOf(ModbusExceptionError);
    expect(err).toMatchObject({ deviceCode: 2, exceptionName: 'illegal data address' });
    expect(await client.read(3, 5, 1)).toEqual([5]);
    expect(client.counters.exceptions).toBe(1);
  });

  it('an answer with the other function is refused, not credited', async () => {
    const err = await rejection(client.read(4, 0xff02, 2));
    expect(err).toBeInstanceOf(DecodeError);
    expect(String(err)).toMatch(/function 3, asked unit 1 function 4/);
    expect(client.counters.mismatched).toBe(1);
  });

  it('a short read is a DecodeError short-frame', async () => {
    const err = await rejection(client.read(3, 0xff03, 4));
    expect(err).toMatchObject({ reason: 'short-frame' });
    expect(String((err as Error).message)).toMatch(/asked 4 registers, got 3/);
  });

  it('a late answer times out, then is discarded and counted when it comes', async () => {
    const err = await rejection(client.read(3, 0xff04, 1));
    expect(err).toMatchObject({ reason: 'timeout' });
    await eventually(async () => (client.counters.unknownTransaction === 1 ? true : undefined), 5000, 'late answer');
    expect(await client.read(3, 7, 1)).toEqual([7]);
  });

  it('an answer with an unknown transaction id is discarded; the real one is taken', async () => {
    expect(await client.read(3, 0xff05, 1)).toEqual([0xff05]);
    expect(client.counters.unknownTransaction).toBe(2);
    expect(discards).toEqual(['unknown-transaction 11', 'unknown-transaction 11']);
  });

  it('a peer that closes mid-frame fails the request, drops the partial frame, and the client reconnects', async () => {
    const err = await rejection(client.read(3, 0xff01, 2));
    expect(err).toBeInstanceOf(ModbusRequestError);
    expect(err).toMatchObject({ reason: 'connection-lost' });
    expect(client.counters.droppedBytes).toBe(9);
    expect(discards.at(-1)).toBe('partial-frame 9');
    await eventually(async () => (client.isConnected ? true : undefined), 10_000, 'reconnect');
    expect(await client.read(4, 100, 2)).toEqual([100, 101]);
    expect(client.counters).toMatchObject({ connects: 2, disconnects: 1 });
    expect(transitions).toEqual(['up: connected', 'down: closed by peer', 'up: connected']);
  });

  it('a read while disconnected is refused at once with not-connected', async () => {
    await responder.stop();
    await eventually(async () => (client.isConnected ? undefined : true), 10_000, 'disconnect');
    const err = await rejection(client.read(3, 0, 1));
    expect(err).toMatchObject({ reason: 'not-connected' });
  });
});

describe('ModbusTcpClient, nobody listening', () => {
  it('says offline once, and keeps retrying with backoff', async () => {
    const responder = await startModbusTcpResponder();
    const port = responder.ports[0] as number;
    await responder.stop(); // the port is free now: connections are refused
    const transitions: string[] = [];
    const client = new ModbusTcpClient({
      host: '127.0.0.1',
      port,
      unit: 1,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      log: silentLogger(),
      onConnection: (up, reason) => transitions.push(`${up ? 'up' : 'down'}: ${reason}`),
    });
    client.start();
    await new Promise((r) => setTimeout(r, 1000));
    await client.stop();
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatch(/^down: cannot connect: .*ECONNREFUSED/);
    expect(client.counters.connects).toBe(0);
    expect(client.counters.connectAttempts).toBeGreaterThanOrEqual(2);
  });
});
