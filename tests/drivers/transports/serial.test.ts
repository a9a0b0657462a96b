import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from '../../../drivers/sdk/errors.js';
import {
  createSerialTransport,
  type SerialOpenOptions,
  type SerialTransportConfig,
} from '../../../drivers/transports/serial.js';

// STACK.md: the ESM @serialport/binding-mock is a different registry; use the one SerialPortMock uses
const MockBinding = SerialPortMock.binding;
const PATH = '/dev/ttyMOCK0';

const config = (over: Partial<SerialTransportConfig> = {}): SerialTransportConfig => ({
  type: 'serial',
  path: PATH,
  baudRate: 2400,
  dataBits: 8,
  parity: 'even',
  stopBits: 1,
  reopenDelay: 1500,
  ...over,
});

/** A factory that keeps the last mock port it built, so the test can play the device. */
function mockPorts() {
  const ports: SerialPortMock[] = [];
  return {
    ports,
    factory: (o: SerialOpenOptions) => {
      const p = new SerialPortMock(o);
      ports.push(p);
      return p;
    },
    last: () => ports.at(-1),
  };
}

afterEach(() => {
  MockBinding.reset();
});

describe('serial transport', () => {
  it('names its address and carries the reopen delay', () => {
    const transport = createSerialTransport(config(), mockPorts().factory);
    expect(transport.address).toBe(`serial:${PATH}@2400`);
    expect(transport.reopenDelayMs).toBe(1500);
  });

  it('passes baud rate, parity, data and stop bits to the port', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = mockPorts();
    const transport = createSerialTransport(config({ parity: 'odd', dataBits: 7, stopBits: 2 }), mock.factory);
    await transport.open();
    expect(mock.last()?.port?.openOptions).toMatchObject({
      path: PATH,
      baudRate: 2400,
      parity: 'odd',
      dataBits: 7,
      stopBits: 2,
    });
    await transport.close();
  });

  it('delivers bytes the device sends (0x00 and 0xFF intact) and records what it writes', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = mockPorts();
    const transport = createSerialTransport(config(), mock.factory);
    const got: Buffer[] = [];
    transport.onData((c) => got.push(c));
    await transport.open();
    mock.last()?.port?.emitData(Buffer.from([0x24, 0x00, 0xff]));
    await new Promise((r) => setTimeout(r, 20));
    expect(Buffer.concat(got)).toEqual(Buffer.from([0x24, 0x00, 0xff]));
    await transport.write(Buffer.from('ack'));
    expect(mock.last()?.port?.recording.toString()).toBe('ack');
    await transport.close();
  });

  it('rejects with a retryable StartupError when the mock port does not exist', async () => {
    const transport = createSerialTransport(config({ path: '/dev/ttyNOPE' }), mockPorts().factory);
    const err = await transport.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).retryable).toBe(true);
    expect((err as StartupError).message).toContain('/dev/ttyNOPE');
  });

  it('rejects a non-existent real device path with a retryable StartupError', async () => {
    const transport = createSerialTransport(config({ path: '/dev/citygrid-no-such-tty' }));
    const err = await transport.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).retryable).toBe(true);
  });

  it('refuses to write when not open', async () => {
    const transport = createSerialTransport(config(), mockPorts().factory);
    await expect(transport.write(Buffer.from('x'))).rejects.toThrow(/not open/);
  });

  it('reports a close it did not ask for, not one it asked for, and opens again afterwards', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = mockPorts();
    const transport = createSerialTransport(config(), mock.factory);
    const closes: (Error | undefined)[] = [];
    transport.onClose((e) => closes.push(e));
    await transport.open();
    await transport.close();
    expect(closes).toHaveLength(0);
    await transport.open();
    const disconnected = Object.assign(new Error('disconnected'), { disconnected: true });
    await new Promise<void>((resolve) => mock.last()?.close(() => resolve(), disconnected));
    await new Promise((r) => setTimeout(r, 10));
    expect(closes).toHaveLength(1);
    expect(closes[0]?.message).toBe('disconnected');
    await transport.open();
    expect(mock.ports).toHaveLength(3);
    await transport.close();
  });
});
