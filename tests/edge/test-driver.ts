/**
 * A tiny driver and an in-memory ByteTransport for the edge tests. The "device" writes lines
 * `<water_level_cm>\n`; each becomes one Reading. Anything else counts as a decode error.
 * `!<name>` emits a Reading with that field name (to test validation). Options let a test make
 * the first starts fail.
 */
import { z } from 'zod';
import type { TransportConfig } from '../../config/schema/gateway.js';
import type { ByteTransport, DriverDefinition } from '../../drivers/sdk/driver.js';
import { StartupError } from '../../drivers/sdk/errors.js';

export class MemoryTransport implements ByteTransport {
  readonly address: string;
  opened = 0;
  isOpen = false;
  private dataListeners: ((chunk: Buffer) => void)[] = [];
  private closeListeners: ((err?: Error) => void)[] = [];

  constructor(address: string) {
    this.address = address;
  }
  async open(): Promise<void> {
    this.opened++;
    this.isOpen = true;
  }
  async write(): Promise<void> {}
  async close(): Promise<void> {
    this.isOpen = false;
  }
  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }
  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.push(listener);
  }
  /** What the device sends. */
  feed(text: string): void {
    if (!this.isOpen) throw new Error(`transport ${this.address} is not open`);
    for (const l of this.dataListeners) l(Buffer.from(text, 'latin1'));
  }
  /** The cable is pulled. */
  drop(err?: Error): void {
    this.isOpen = false;
    for (const l of this.closeListeners) l(err);
  }
}

const optionsSchema = z
  .object({
    /** Starts that fail before one succeeds. */
    failStarts: z.number().int().min(0).default(0),
    retryable: z.boolean().default(true),
  })
  .strict();
type TestOptions = z.output<typeof optionsSchema>;

export const testLinesDriver: DriverDefinition<TestOptions> = {
  id: 'test-lines',
  title: 'Test driver: one water level per line',
  kinds: ['flood'],
  transports: ['tcp'],
  optionsSchema,
  fields: ['water_level_cm'],
  create(ctx) {
    const options = optionsSchema.parse(ctx.options ?? {});
    let attempts = 0;
    let rest = '';
    let running = false;
    ctx.transport.onData((chunk) => {
      if (!running) return;
      const lines = (rest + chunk.toString('latin1')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('!')) {
          // A driver bug on demand: a field name the Reading schema refuses.
          ctx.emitReading({ ts: ctx.clock.now(), fields: { [line.slice(1)]: 1 } });
          continue;
        }
        const value = Number(line);
        if (line === '' || !Number.isFinite(value)) {
          ctx.countDecodeError('bad-frame');
          continue;
        }
        ctx.emitReading({
          ts: ctx.clock.now(),
          fields: { water_level_cm: value },
          quality: 'good',
          gatewayClock: true,
        });
      }
    });
    ctx.transport.onClose((err) => ctx.setAvailability(false, err?.message ?? 'closed'));
    return {
      async start() {
        attempts++;
        if (attempts <= options.failStarts) throw new StartupError('device not answering', options.retryable);
        await ctx.transport.open();
        running = true;
      },
      async stop() {
        running = false;
        await ctx.transport.close();
      },
    };
  },
};

/** A registry with the test driver, and a transport factory that remembers each transport by address. */
export function testDeps() {
  const transports = new Map<string, MemoryTransport>();
  return {
    registry: {
      get(id: string) {
        if (id !== testLinesDriver.id) throw new Error(`unknown driver "${id}"`);
        return testLinesDriver;
      },
    },
    createTransport(cfg: TransportConfig): ByteTransport {
      const address = cfg.type === 'tcp' ? `${cfg.host}:${cfg.port}` : cfg.path;
      const t = new MemoryTransport(address);
      transports.set(address, t);
      return t;
    },
    transports,
  };
}
