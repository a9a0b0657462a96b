/**
 * The JT/T 808 session state machine with the codec's vectors (2013 and 2019 frames of phone
 * 13800138000 from ../shared/domain/4-jt808.md §4.9 and the hand-built ones): every reply it
 * writes, every outcome, every refusal path, and the timeouts, with time given by the test.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeJt808, encodeTerminalMessage } from '../../../drivers/jt808/codec.js';
import { type Jt808Outcome, Jt808Session, type Jt808Terminal, phoneKey } from '../../../drivers/jt808/session.js';
import { vectorSet } from '../../helpers/vectors.js';

const vectors = vectorSet(path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors'));
const frameOf = (name: string): Buffer =>
  Buffer.from((JSON.parse(vectors.read('.', `${name}.json`)) as { frame: string }).frame.replace(/\s/g, ''), 'hex');
const hex = (b: Buffer) => b.toString('hex').toUpperCase();
const spaced = (s: string) => s.replace(/\s/g, '');

const REGISTER_2013 = frameOf('register-0100-2013-gbk-plate'); // serial 7, plate 京A12345, colour 1
const REGISTER_2019 = frameOf('register-0100-2019-vin'); // serial 8, VIN (colour 0)
const AUTH_2013 = frameOf('domain-0102-auth-2013'); // "AUTH123", serial 4
const AUTH_2019 = frameOf('auth-0102-2019-imei-software'); // "AUTH123", serial 9
const LOCATION_2013 = frameOf('domain-truck-0200-2013'); // serial 1
const LOCATION_2019 = frameOf('domain-truck-0200-2019');
const HEARTBEAT = frameOf('domain-heartbeat-serial-2');
const BATCH = frameOf('domain-0704-batch-blind-area');
const UNKNOWN_0900 = frameOf('unknown-msg-0900-kept-raw');
const SUBPACKAGE = frameOf('subpackage-2-of-3-kept-raw');
const TERMINAL_REPLY = frameOf('domain-0001-terminal-reply-8103');

class Terminal implements Jt808Terminal {
  code: string | undefined;
  constructor(
    readonly device: string,
    readonly plate?: string,
  ) {}
  authCode() {
    return this.code;
  }
  setAuthCode(code: string | undefined) {
    this.code = code;
  }
}

function setup(opts: { plate?: string; firstSerial?: number } = {}) {
  const truck = new Terminal('XH-TRUCK-01', opts.plate);
  const directory = new Map([[phoneKey('013800138000'), truck]]);
  const session = new Jt808Session(
    {
      directory: { find: (k) => directory.get(k) },
      newAuthCode: () => 'AUTH123',
      authTimeoutMs: 30_000,
      heartbeatTimeoutMs: 180_000,
      ...(opts.firstSerial !== undefined ? { firstSerial: opts.firstSerial } : {}),
    },
    1_000,
  );
  return { truck, session };
}

const refusals = (o: Jt808Outcome[]) => o.filter((x) => x.kind === 'refused').map((x) => x.reason);

describe('JT/T 808 session', () => {
  it('registers a known 2013 terminal with the domain 0x8100 frame and issues the auth code', () => {
    const { truck, session } = setup({ firstSerial: 0x0100 });
    // the register vector has serial 7; the domain's 0x8100 answers serial 0: re-serial the same body
    const reg = decodeJt808(REGISTER_2013);
    const serial0 = encodeTerminalMessage(0x0100, { phone: reg.header.phone, serial: 0 }, reg.body);
    const step = session.receive(serial0, 2_000);
    expect(step.msgId).toBe(0x0100);
    expect(step.replies.map((r) => hex(r.bytes))).toEqual([
      spaced('7E 81 00 00 0A 01 38 00 13 80 00 01 00 00 00 00 41 55 54 48 31 32 33 18 7E'),
    ]);
    expect(step.outcomes).toEqual([{ kind: 'registered', device: 'XH-TRUCK-01', phone: '013800138000' }]);
    expect(truck.code).toBe('AUTH123');
    expect(session.isAuthenticated).toBe(false);
  });

  it('authenticates (2013 body) and answers a location with the domain 0x8001 frame', () => {
    const { truck, session } = setup({ firstSerial: 0x0101 });
    truck.code = 'AUTH123'; // issued before an edge restart, kept in the device store
    const auth = session.receive(AUTH_2013, 2_000);
    expect(auth.outcomes).toEqual([
      { kind: 'authenticated', device: 'XH-TRUCK-01', phone: '013800138000', v2019: false },
    ]);
    expect(auth.replies[0]).toMatchObject({ msgId: 0x8001, result: 0 });
    expect(decodeJt808(auth.replies[0]!.bytes).body).toEqual({
      kind: 'general-reply',
      replySerial: 4,
      replyMsgId: 0x0102,
      result: 0,
    });
    const loc = session.receive(LOCATION_2013, 3_000);
    const reply = decodeJt808(loc.replies[0]!.bytes);
    expect(reply.header).toMatchObject({ phone: '013800138000', serial: 0x0102, v2019: false });
    expect(reply.body).toEqual({ kind: 'general-reply', replySerial: 1, replyMsgId: 0x0200, result: 0 });
    // the domain's exact 0x8001 bytes (platform serial 0x0101) when the location answer gets 0x0101
    const { session: exact, truck: t2 } = setup({ firstSerial: 0x0100 });
    t2.code = 'AUTH123';
    exact.receive(AUTH_2013, 0);
    expect(hex(exact.receive(LOCATION_2013, 1).replies[0]!.bytes)).toBe(
      spaced('7E 80 01 00 05 01 38 00 13 80 00 01 01 00 01 02 00 00 2D 7E'),
    );
    expect(loc.outcomes).toHaveLength(1);
    const out = loc.outcomes[0] as Extract<Jt808Outcome, { kind: 'location' }>;
    expect(out).toMatchObject({ kind: 'location', device: 'XH-TRUCK-01', batch: false });
    expect(out.location).toMatchObject({ latitude: 39.908692, longitude: 116.397477, speedKmh: 35.6, direction: 90 });
    expect(out.location.time).toBe(Date.UTC(2024, 2, 15, 8, 30, 45));
  });

  it('speaks 2019 to a 2019 terminal: register with a VIN, 2019 auth body, 2019 replies', () => {
    const { truck, session } = setup({ plate: '京A12345' });
    const reg = session.receive(REGISTER_2019, 0);
    expect(reg.replies[0]).toMatchObject({ msgId: 0x8100, result: 0 }); // colour 0: a VIN, not checked against the plate
    const regReply = decodeJt808(reg.replies[0]!.bytes);
    expect(regReply.header).toMatchObject({ v2019: true, protocolVersion: 1, phone: '00000000013800138000' });
    expect(regReply.body).toMatchObject({ replySerial: 8, result: 0, authCode: 'AUTH123' });
    expect(truck.code).toBe('AUTH123');
    const auth = session.receive(AUTH_2019, 1);
    expect(auth.outcomes[0]).toMatchObject({ kind: 'authenticated', v2019: true });
    const loc = session.receive(LOCATION_2019, 2);
    const reply = decodeJt808(loc.replies[0]!.bytes);
    expect(reply.header).toMatchObject({ v2019: true, phone: '00000000013800138000' });
    expect(reply.body).toMatchObject({ replyMsgId: 0x0200, result: 0 });
    expect(session.device).toBe('XH-TRUCK-01');
  });

  it('answers heartbeat and batch; every batch item is a location with its own time; a terminal reply gets no answer', () => {
    const { truck, session } = setup();
    truck.code = 'AUTH123';
    session.receive(AUTH_2013, 0);
    const hb = session.receive(HEARTBEAT, 1);
    expect(hb.outcomes).toEqual([]);
    expect(decodeJt808(hb.replies[0]!.bytes).body).toMatchObject({ replySerial: 2, replyMsgId: 0x0002, result: 0 });
    const batch = session.receive(BATCH, 2);
    expect(batch.outcomes.map((o) => o.kind)).toEqual(['location', 'location']);
    const times = batch.outcomes.map((o) => (o as Extract<Jt808Outcome, { kind: 'location' }>).location.time);
    expect(times[0]).not.toBe(times[1]);
    expect(batch.outcomes.every((o) => (o as { batch: boolean }).batch)).toBe(true);
    expect(decodeJt808(batch.replies[0]!.bytes).body).toMatchObject({ replyMsgId: 0x0704, result: 0 });
    expect(session.receive(TERMINAL_REPLY, 3)).toMatchObject({ replies: [], outcomes: [] });
  });

  it('unregister: answered, the auth code forgotten, later messages refused until it registers again', () => {
    const { truck, session } = setup();
    truck.code = 'AUTH123';
    session.receive(AUTH_2013, 0);
    const bye = encodeTerminalMessage(0x0003, { phone: '013800138000', serial: 20 }, { kind: 'empty' });
    const step = session.receive(bye, 1);
    expect(step.outcomes).toEqual([{ kind: 'unregistered', device: 'XH-TRUCK-01' }]);
    expect(step.replies[0]).toMatchObject({ msgId: 0x8001, result: 0 });
    expect(truck.code).toBeUndefined();
    expect(refusals(session.receive(HEARTBEAT, 2).outcomes)).toEqual(['not-authenticated']);
    expect(refusals(session.receive(AUTH_2013, 3).outcomes)).toEqual(['bad-auth-code']);
  });

  describe('refusals', () => {
    it('unknown terminal at registration: 0x8100 result 4 (no such terminal), no code', () => {
      const { session } = setup();
      const reg = decodeJt808(REGISTER_2013);
      const stranger = encodeTerminalMessage(0x0100, { phone: '013900000009', serial: 1 }, reg.body);
      const step = session.receive(stranger, 0);
      expect(refusals(step.outcomes)).toEqual(['unknown-terminal']);
      expect(step.replies[0]).toMatchObject({ msgId: 0x8100, result: 4 });
      expect(decodeJt808(step.replies[0]!.bytes).body).toMatchObject({ result: 4, authCode: '' });
    });

    it('a known terminal registering another plate: 0x8100 result 2 (no such vehicle)', () => {
      const { truck, session } = setup({ plate: '浙A00001' });
      const step = session.receive(REGISTER_2013, 0);
      expect(refusals(step.outcomes)).toEqual(['wrong-vehicle']);
      expect(step.replies[0]).toMatchObject({ msgId: 0x8100, result: 2 });
      expect(truck.code).toBeUndefined();
    });

    it('the configured plate registers', () => {
      const { session } = setup({ plate: '京A12345' });
      expect(session.receive(REGISTER_2013, 0).replies[0]).toMatchObject({ msgId: 0x8100, result: 0 });
    });

    it('auth with a wrong code, with none issued, or from an unknown phone: 0x8001 result 1', () => {
      const { truck, session } = setup();
      expect(refusals(session.receive(AUTH_2013, 0).outcomes)).toEqual(['bad-auth-code']); // none issued
      truck.code = 'OTHER';
      const step = session.receive(AUTH_2013, 1);
      expect(refusals(step.outcomes)).toEqual(['bad-auth-code']);
      expect(step.replies[0]).toMatchObject({ msgId: 0x8001, result: 1 });
      const smallchi = session.receive(frameOf('domain-smallchi-0102-auth'), 2);
      expect(refusals(smallchi.outcomes)).toEqual(['unknown-terminal']);
      expect(smallchi.replies[0]).toMatchObject({ msgId: 0x8001, result: 1 });
      expect(session.isAuthenticated).toBe(false);
    });

    it('a frame with another phone on an authenticated connection: refused, the session stays its own', () => {
      const { truck, session } = setup();
      truck.code = 'AUTH123';
      session.receive(AUTH_2013, 0);
      const step = session.receive(frameOf('domain-smallchi-0102-auth'), 1);
      expect(refusals(step.outcomes)).toEqual(['phone-changed']);
      expect(step.replies[0]).toMatchObject({ msgId: 0x8001, result: 1 });
      expect(session.device).toBe('XH-TRUCK-01');
    });

    it('location, batch and heartbeat before authentication: 0x8001 result 1, nothing delivered', () => {
      const { session } = setup();
      for (const f of [LOCATION_2013, BATCH, HEARTBEAT]) {
        const step = session.receive(f, 0);
        expect(refusals(step.outcomes)).toEqual(['not-authenticated']);
        expect(step.outcomes.some((o) => o.kind === 'location')).toBe(false);
        expect(step.replies[0]).toMatchObject({ msgId: 0x8001, result: 1 });
      }
    });

    it('unknown message id, sub-packages: 0x8001 result 3 (unsupported), in any state', () => {
      const { session } = setup();
      for (const f of [UNKNOWN_0900, SUBPACKAGE]) {
        const step = session.receive(f, 0);
        expect(refusals(step.outcomes)).toEqual(['unsupported']);
        expect(step.replies[0]).toMatchObject({ msgId: 0x8001, result: 3 });
      }
    });

    it('frames the codec refuses: a typed reason, no reply, the session goes on', () => {
      const { truck, session } = setup();
      truck.code = 'AUTH123';
      session.receive(AUTH_2013, 0);
      for (const [name, reason] of [
        ['bad-check-code', 'bad-checksum'],
        ['bad-escape-7d-03', 'bad-frame'],
        ['body-shorter-than-declared', 'short-frame'],
        ['short-header', 'short-frame'],
      ] as const) {
        const step = session.receive(frameOf(name), 1);
        expect(refusals(step.outcomes), name).toEqual([reason]);
        expect(step.replies).toEqual([]);
        expect(step.msgId).toBeUndefined();
      }
      expect(session.receive(LOCATION_2013, 2).outcomes[0]).toMatchObject({ kind: 'location' });
    });
  });

  describe('timeouts (the server sweep calls tick)', () => {
    it('drops a connection that never authenticates after authTimeoutMs, once', () => {
      const { session } = setup();
      session.receive(REGISTER_2013, 1_500); // registered but never authenticated
      expect(session.tick(30_999)).toEqual([]);
      expect(session.tick(31_000)).toEqual([{ kind: 'close', reason: 'auth-timeout' }]);
      expect(session.tick(40_000)).toEqual([]);
      expect(session.receive(HEARTBEAT, 40_000)).toEqual({ replies: [], outcomes: [] });
    });

    it('drops an authenticated terminal silent for heartbeatTimeoutMs; any frame counts as life', () => {
      const { truck, session } = setup();
      truck.code = 'AUTH123';
      session.receive(AUTH_2013, 2_000);
      expect(session.tick(100_000)).toEqual([]); // past the auth timeout: authenticated, so fine
      session.receive(LOCATION_2013, 150_000);
      expect(session.tick(329_999)).toEqual([]);
      expect(session.tick(330_000)).toEqual([{ kind: 'close', reason: 'heartbeat-timeout' }]);
    });
  });
});
