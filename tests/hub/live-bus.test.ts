import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/sdk/log.js';
import { type GatewayChange, LiveBus } from '../../hub/src/live/bus.js';

const change = (gateway: string): GatewayChange => ({ gateway, district: 'xihu', online: true, ts: 1 });

describe('LiveBus', () => {
  it('delivers to every listener, in subscription order, and a throwing one does not stop the others', () => {
    const bus = new LiveBus(silentLogger());
    const seen: string[] = [];
    bus.on('gateway', (g) => seen.push(`a:${g.gateway}`));
    bus.on('gateway', () => {
      throw new Error('listener bug');
    });
    bus.on('gateway', (g) => seen.push(`c:${g.gateway}`));
    bus.emit('gateway', change('gw-1'));
    expect(seen).toEqual(['a:gw-1', 'c:gw-1']);
    expect(bus.listenerCount('gateway')).toBe(3);
    expect(bus.listenerCount('reading')).toBe(0);
  });

  it('unsubscribes, also while an emit is running, and counts one function once', () => {
    const bus = new LiveBus(silentLogger());
    const seen: string[] = [];
    const listener = (g: GatewayChange) => seen.push(g.gateway);
    const off = bus.on('gateway', listener);
    bus.on('gateway', listener);
    expect(bus.listenerCount('gateway')).toBe(1);
    let offSecond = () => {};
    bus.on('gateway', () => offSecond());
    offSecond = bus.on('gateway', (g) => seen.push(`second:${g.gateway}`));
    bus.emit('gateway', change('gw-1'));
    bus.emit('gateway', change('gw-2'));
    off();
    bus.emit('gateway', change('gw-3'));
    expect(seen).toEqual(['gw-1', 'second:gw-1', 'gw-2']);
  });
});
