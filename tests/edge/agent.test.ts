import { describe, expect, it } from 'vitest';
import { type DeviceConfig, deviceConfigSchema } from '../../config/schema/gateway.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { CityEvent, Reading } from '../../drivers/sdk/reading.js';
import { Agent } from '../../edge/src/agent.js';
import { testDeps } from './test-driver.js';

const device = (id: string, options: Record<string, unknown> = {}, driver = 'test-lines'): DeviceConfig =>
  deviceConfigSchema.parse({
    id,
    kind: 'flood',
    driver,
    asset: 'UP-1',
    transport: { type: 'tcp', host: id, port: 1 },
    options,
  });

function setup(devices: DeviceConfig[]) {
  const deps = testDeps();
  const readings: Reading[] = [];
  const events: CityEvent[] = [];
  const metrics = new MetricsRegistry();
  let availabilityChanges = 0;
  const agent = new Agent(devices, {
    registry: deps.registry,
    createTransport: deps.createTransport,
    sink: { reading: (r) => readings.push(r), event: (e) => events.push(e) },
    log: silentLogger(),
    clock: { now: () => 1_700_000_000_000 },
    metrics,
    retry: { initialDelay: 5, maxDelay: 20 },
    onAvailabilityChange: () => availabilityChanges++,
  });
  const until = async (what: string, check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
    if (!check()) throw new Error(`timed out: ${what}`);
  };
  return { agent, deps, readings, events, metrics, until, changes: () => availabilityChanges };
}

describe('Agent', () => {
  it('turns driver output into Readings with device, kind and asset', async () => {
    const { agent, deps, readings, until } = setup([device('D1')]);
    agent.start();
    await until('online', () => agent.onlineCount() === 1);
    deps.transports.get('D1:1')?.feed('12.5\n13\n');
    expect(readings).toEqual([
      {
        device: 'D1',
        kind: 'flood',
        asset: 'UP-1',
        ts: 1_700_000_000_000,
        fields: { water_level_cm: 12.5 },
        quality: 'good',
        gatewayClock: true,
      },
      {
        device: 'D1',
        kind: 'flood',
        asset: 'UP-1',
        ts: 1_700_000_000_000,
        fields: { water_level_cm: 13 },
        quality: 'good',
        gatewayClock: true,
      },
    ]);
    expect(agent.inventory()).toEqual([{ id: 'D1', kind: 'flood', driver: 'test-lines', asset: 'UP-1', online: true }]);
    await agent.stop();
  });

  it('counts decode errors by device and reason', async () => {
    const { agent, deps, readings, metrics, until } = setup([device('D1')]);
    agent.start();
    await until('open', () => deps.transports.get('D1:1')?.isOpen === true);
    deps.transports.get('D1:1')?.feed('garbage\n7\n\n');
    expect(readings).toHaveLength(1);
    expect(metrics.render()).toContain('citygrid_edge_decode_errors_total{device="D1",reason="bad-frame"} 2');
    await agent.stop();
  });

  it('retries a retryable StartupError with backoff, reporting offline once and online on recovery', async () => {
    const { agent, events, metrics, until } = setup([device('D1', { failStarts: 3, retryable: true })]);
    agent.start();
    await until('online', () => agent.onlineCount() === 1);
    expect(
      metrics.counter('citygrid_edge_device_start_failures_total', '').get({ device: 'D1', retryable: 'true' }),
    ).toBe(3);
    // Three failed attempts, one transition: one offline event, then one online event.
    expect(events.map((e) => e.type)).toEqual(['device.offline', 'device.online']);
    expect(events[0]).toMatchObject({
      device: 'D1',
      asset: 'UP-1',
      severity: 'warning',
      data: { reason: 'STARTUP_FAILED: device not answering' },
    });
    expect(agent.onlineCount()).toBe(1);
    await agent.stop();
  });

  it('gives up on a non-retryable failure or an unknown driver and keeps the other devices running', async () => {
    const { agent, deps, events, readings, until } = setup([
      device('BAD', { failStarts: 1, retryable: false }),
      device('UNKNOWN', {}, 'no-such-driver'),
      device('GOOD'),
    ]);
    agent.start();
    await until('good open', () => deps.transports.get('GOOD:1')?.isOpen === true);
    await until('two offline', () => events.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(deps.transports.get('BAD:1')?.opened).toBe(0);
    expect(events.map((e) => [e.device, e.type]).sort()).toEqual([
      ['BAD', 'device.offline'],
      ['UNKNOWN', 'device.offline'],
    ]);
    deps.transports.get('GOOD:1')?.feed('1\n');
    expect(readings.map((r) => r.device)).toEqual(['GOOD']);
    expect(agent.inventory().map((d) => [d.id, d.online])).toEqual([
      ['BAD', false],
      ['UNKNOWN', false],
      ['GOOD', true],
    ]);
    await agent.stop();
  });

  it('reports a lost device once, however often the driver repeats it', async () => {
    const { agent, deps, events, until, changes } = setup([device('D1')]);
    agent.start();
    await until('open', () => deps.transports.get('D1:1')?.isOpen === true);
    const before = changes();
    deps.transports.get('D1:1')?.drop(new Error('cable pulled'));
    deps.transports.get('D1:1')?.drop(new Error('cable pulled'));
    deps.transports.get('D1:1')?.drop(new Error('cable pulled'));
    expect(events.filter((e) => e.type === 'device.offline')).toHaveLength(1);
    expect(changes() - before).toBe(1);
    await agent.stop();
  });

  it('drops an invalid reading with a counter and emits nothing after stop', async () => {
    const { agent, deps, readings, metrics, until } = setup([device('D1')]);
    agent.start();
    await until('open', () => deps.transports.get('D1:1')?.isOpen === true);
    const transport = deps.transports.get('D1:1');
    transport?.feed('!Not A Field\n');
    expect(readings).toHaveLength(0);
    expect(metrics.counter('citygrid_edge_invalid_total', '').get({ device: 'D1', type: 'reading' })).toBe(1);
    await agent.stop();
    expect(transport?.isOpen).toBe(false);
  });
});

describe('Agent.command', () => {
  it('refuses a device it does not have, and a driver that takes no commands, with typed errors', async () => {
    const { agent } = setup([device('D1')]);
    agent.start();
    await expect(agent.command('NOPE', { name: 'sample-interval', args: {} })).rejects.toMatchObject({
      code: 'UNKNOWN_DEVICE',
      message: 'no device "NOPE" on this gateway',
    });
    await expect(agent.command('D1', { name: 'capture', args: {} })).rejects.toMatchObject({
      code: 'COMMAND_UNSUPPORTED',
    });
    await agent.stop();
  });
});
