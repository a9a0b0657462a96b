/** The jt808-terminal driver: outcomes of its sessions -> vehicle Readings, alarm Events, availability. */
import { describe, expect, it } from 'vitest';
import type { Location } from '../../../drivers/jt808/codec.js';
import type { Jt808SessionDevice } from '../../../drivers/jt808/session.js';
import { jt808Terminal, jt808TerminalOptionsSchema } from '../../../drivers/jt808-terminal/definition.js';
import { createMemoryTransport } from '../../helpers/memory-transport.js';
import { recordingContext } from '../recording-context.js';

const at = Date.UTC(2024, 2, 15, 8, 30, 45);
const loc = (over: Partial<Location> = {}): Location => ({
  alarm: 0,
  status: 0x000c0003,
  latitude: 39.908692,
  longitude: 116.397477,
  altitudeM: 50,
  speedKmh: 35.6,
  direction: 90,
  time: at,
  items: [
    { id: 0x01, hex: '00003039', mileageKm: 1234.5 },
    { id: 0x31, hex: '0c', satellites: 12 },
    { id: 0xe1, hex: '01' },
  ],
  ...over,
});

function setup(options: Record<string, unknown> = { phone: '013800138000' }) {
  const ctx = recordingContext({
    options: jt808TerminalOptionsSchema.parse(options),
    transport: createMemoryTransport(),
    deviceId: 'XH-SW-01',
  });
  const device = jt808Terminal.createSession(ctx) as Jt808SessionDevice;
  return { ctx, device };
}

describe('jt808-terminal driver', () => {
  it('keys the terminal by its phone without leading zeros and keeps the auth code in the store', () => {
    const { ctx, device } = setup();
    expect(device.key).toBe('13800138000');
    expect(device.device).toBe('XH-SW-01');
    device.setAuthCode('abc');
    expect(ctx.store.get('authCode')).toBe('abc');
    expect(device.authCode()).toBe('abc');
  });

  it('turns a location into a vehicle reading with the terminal time', () => {
    const { ctx, device } = setup();
    device.deliver({ kind: 'location', device: 'XH-SW-01', location: loc(), batch: false });
    expect(ctx.readings).toEqual([
      {
        ts: at,
        quality: 'good',
        fields: {
          lat: 39.908692,
          lon: 116.397477,
          speed_kmh: 35.6,
          heading_deg: 90,
          altitude_m: 50,
          mileage_km: 1234.5,
          satellites: 12,
          working: true,
          alarm_flags: 0,
          status_flags: 0x000c0003,
        },
      },
    ]);
  });

  it('reads the work state from the configured vendor item, bit 0', () => {
    const { ctx, device } = setup({ phone: '1', workStateItem: 0xf0 });
    const items = [
      { id: 0xe1, hex: '01' },
      { id: 0xf0, hex: '02' },
    ];
    device.deliver({ kind: 'location', device: 'XH-SW-01', location: loc({ items }), batch: false });
    expect(ctx.readings[0]?.fields.working).toBe(false);
  });

  it('without a fix: no position, quality uncertain', () => {
    const { ctx, device } = setup();
    device.deliver({ kind: 'location', device: 'XH-SW-01', location: loc({ status: 1, items: [] }), batch: false });
    expect(ctx.readings[0]).toEqual({ ts: at, quality: 'uncertain', fields: { alarm_flags: 0, status_flags: 1 } });
  });

  it('raises an event per alarm bit that rises and a cleared event when it drops; batch items make none', () => {
    const { ctx, device } = setup({ phone: '1', alarmBits: { 16: { name: 'vibration', severity: 'warning' } } });
    const send = (alarm: number, batch = false) =>
      device.deliver({ kind: 'location', device: 'XH-SW-01', location: loc({ alarm }), batch });
    send(0b11); // emergency + overspeed
    send(0b10 | (1 << 16)); // emergency drops, vibration (an override of a reserved bit) rises
    send(1 << 30, true); // rollover in a batch: history
    expect(ctx.events.map((e) => [e.type, e.severity])).toEqual([
      ['vehicle.alarm.emergency', 'critical'],
      ['vehicle.alarm.overspeed', 'warning'],
      ['vehicle.alarm.emergency.cleared', 'info'],
      ['vehicle.alarm.vibration', 'warning'],
    ]);
    expect(ctx.events[0]).toMatchObject({ ts: at, data: { bit: 0, alarmFlags: 3, lat: 39.908692 } });
    expect(ctx.store.get('alarm')).toBe(0b10 | (1 << 16));
    expect(ctx.readings).toHaveLength(3);
  });

  it('does not raise an alarm again after a restart (the last alarm word is in the store)', () => {
    const { ctx, device } = setup();
    device.deliver({ kind: 'location', device: 'XH-SW-01', location: loc({ alarm: 2 }), batch: false });
    const again = jt808Terminal.createSession(ctx) as Jt808SessionDevice;
    again.deliver({ kind: 'location', device: 'XH-SW-01', location: loc({ alarm: 2 }), batch: false });
    expect(ctx.events.map((e) => e.type)).toEqual(['vehicle.alarm.overspeed']);
  });

  it('is online while authenticated, offline with the reason when the session ends or it unregisters', () => {
    const { ctx, device } = setup();
    device.deliver({ kind: 'authenticated', device: 'XH-SW-01', phone: '013800138000', v2019: false });
    device.ended('heartbeat-timeout');
    device.deliver({ kind: 'authenticated', device: 'XH-SW-01', phone: '013800138000', v2019: false });
    device.deliver({ kind: 'unregistered', device: 'XH-SW-01' });
    expect(ctx.availability).toEqual([
      { online: true, reason: 'authenticated' },
      { online: false, reason: 'heartbeat-timeout' },
      { online: true, reason: 'authenticated' },
      { online: false, reason: 'unregistered' },
    ]);
  });
});
