/** Device commands addressed by device id, or by kinds and/or assets (emergency modes). */
import { describe, expect, it } from 'vitest';
import type { DeviceCommand } from '../../drivers/sdk/driver.js';
import { deviceCommandHandler, selectDevices } from '../../edge/src/device-commands.js';

const devices = [
  { id: 'UP-1', kind: 'flood', asset: 'UP-XH-001' },
  { id: 'UP-2', kind: 'flood', asset: 'UP-XH-002' },
  { id: 'BR-1', kind: 'bridge', asset: 'BR-XH-001' },
  { id: 'GPS-1', kind: 'vehicle' },
] as const;

function agent() {
  const calls: [string, DeviceCommand][] = [];
  return {
    calls,
    devices: () => devices as never,
    async command(device: string, cmd: DeviceCommand) {
      calls.push([device, cmd]);
      if (device === 'GPS-1') throw new Error('takes no "sample-interval" command');
      return { interval: 5000 };
    },
  };
}

describe('selectDevices', () => {
  it('filters by kinds, by assets, and by both', () => {
    expect(selectDevices(devices, { kinds: ['flood'] })).toEqual(['UP-1', 'UP-2']);
    expect(selectDevices(devices, { assets: ['BR-XH-001', 'UP-XH-002'] })).toEqual(['UP-2', 'BR-1']);
    expect(selectDevices(devices, { kinds: ['flood'], assets: ['BR-XH-001'] })).toEqual([]);
  });
});

describe('deviceCommandHandler', () => {
  it('routes a device-addressed command with its id and args', async () => {
    const a = agent();
    const r = await deviceCommandHandler(a, 'sample-interval')({ id: 'c1', device: 'UP-1', interval: '5s' });
    expect(r).toEqual({ device: 'UP-1', interval: 5000 });
    expect(a.calls).toEqual([['UP-1', { name: 'sample-interval', id: 'c1', args: { interval: '5s' } }]]);
  });

  it('sends a kind-addressed command to every device of the kinds, each with its own result', async () => {
    const a = agent();
    const r = await deviceCommandHandler(a, 'sample-interval')({ kinds: ['flood', 'vehicle'], interval: 'default' });
    expect(r).toEqual({
      devices: [
        { device: 'UP-1', ok: true, interval: 5000 },
        { device: 'UP-2', ok: true, interval: 5000 },
        { device: 'GPS-1', ok: false, error: 'takes no "sample-interval" command' },
      ],
    });
    expect(a.calls.map(([, c]) => c.args)).toEqual([
      { interval: 'default' },
      { interval: 'default' },
      { interval: 'default' },
    ]);
  });

  it('fails when nothing matches, when none took it, and for a body with neither or both forms', async () => {
    const h = deviceCommandHandler(agent(), 'sample-interval');
    await expect(h({ kinds: ['camera'] })).rejects.toThrow(/no device on this gateway matches/);
    await expect(h({ kinds: ['vehicle'] })).rejects.toThrow(/no chosen device took/);
    await expect(h({ interval: '5s' })).rejects.toThrow(/needs a JSON object/);
    await expect(h({ device: 'UP-1', kinds: ['flood'] })).rejects.toThrow(/needs a JSON object/);
    await expect(h('5s')).rejects.toThrow(/needs a JSON object/);
  });
});
