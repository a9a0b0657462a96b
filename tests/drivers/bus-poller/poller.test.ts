import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Cjt188Answer, cjt188Device } from '../../../drivers/bus-poller/adapters.js';
import { type BusPollerOptions, createBusPoller, type Discard } from '../../../drivers/bus-poller/poller.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { cjt188Answer, cjt188RequestAddress, createScriptedBus, type Reply } from './scripted-bus.js';

const A = '00000000000001';
const B = '00000000000002';
const C = '00000000000003';
const clock = { now: () => Date.now() };

interface Harness {
  answers: { device: string; address: string; at: number }[];
  availability: { device: string; online: boolean }[];
  discards: Discard[];
}

function setup(
  answer: (address: string, request: Buffer) => Reply[],
  addresses: string[] = [A, B, C],
  options: Partial<BusPollerOptions> = {},
) {
  const bus = createScriptedBus((req) => {
    const address = cjt188RequestAddress(req);
    return address ? answer(address, req) : [];
  });
  const h: Harness = { answers: [], availability: [], discards: [] };
  const devices = addresses.map((address, i) =>
    cjt188Device({
      id: `m${i + 1}`,
      meterType: 0x10,
      address,
      onAnswer: (frame: Cjt188Answer) =>
        h.answers.push({ device: `m${i + 1}`, address: frame.address, at: Date.now() }),
    }),
  );
  const poller = createBusPoller({
    transport: bus.transport,
    devices,
    log: silentLogger(),
    clock,
    pollIntervalMs: 10_000,
    responseTimeoutMs: 200,
    silence: { ms: 20 },
    retries: 2,
    offlineAfter: 3,
    backoffFactor: 2,
    backoffCapMs: 40_000,
    onAvailability: (device, online) => h.availability.push({ device, online }),
    onDiscard: (d) => h.discards.push(d),
    ...options,
  });
  return { bus, poller, h };
}

const prompt = (address: string): Reply[] => [{ bytes: cjt188Answer(address, 12.5), delayMs: 50 }];
const requestsTo = (bus: ReturnType<typeof setup>['bus'], address: string) =>
  bus.requests.filter((r) => cjt188RequestAddress(r.bytes) === address);

describe('bus poller', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps one request in flight and leaves the configured silence before the next one', async () => {
    const { bus, poller, h } = setup(prompt);
    await poller.start();
    await vi.advanceTimersByTimeAsync(1_000);
    await poller.stop();
    expect(h.answers.map((a) => a.device)).toEqual(['m1', 'm2', 'm3']);
    expect(bus.requests.map((r) => cjt188RequestAddress(r.bytes))).toEqual([A, B, C]);
    for (let i = 1; i < bus.requests.length; i++) {
      const prevAnswer = h.answers[i - 1];
      const next = bus.requests[i];
      // the next request goes out only after the previous answer, plus 20 ms of quiet line
      expect(next && prevAnswer && next.at - prevAnswer.at).toBe(20);
    }
  });

  it('polls each device again after its interval', async () => {
    const { bus, poller } = setup(prompt);
    await poller.start();
    await vi.advanceTimersByTimeAsync(25_000);
    await poller.stop();
    const times = requestsTo(bus, B).map((r) => r.at - 1_000_000);
    expect(times).toEqual([90, 10_090, 20_090]);
  });

  it('retries a silent device after each timeout, then moves on to the next one', async () => {
    const { bus, poller, h } = setup((address) => (address === B ? [] : prompt(address)));
    await poller.start();
    await vi.advanceTimersByTimeAsync(2_000);
    await poller.stop();
    const toB = requestsTo(bus, B).map((r) => r.at - 1_000_000);
    // 20 ms of quiet line, m1 asked at 20 and answered at 70, B asked at 90; after each 200 ms
    // timeout the line has been quiet long enough, so the retry goes out at once
    expect(toB).toEqual([90, 290, 490]);
    expect(requestsTo(bus, C).map((r) => r.at - 1_000_000)).toEqual([690]);
    expect(h.answers.map((a) => a.device)).toEqual(['m1', 'm3']);
    const c = poller.counters();
    expect(c.timeouts).toBe(3);
    expect(c.failedPolls).toBe(1);
    expect(poller.deviceState('m2')?.consecutiveFailures).toBe(1);
  });

  it('slows down for a device that keeps failing, up to the cap, and returns to its interval when it answers', async () => {
    let bSilent = true;
    const { bus, poller } = setup((address) => (address === B && bSilent ? [] : prompt(address)), [A, B], {
      pollIntervalMs: 1_000,
      backoffCapMs: 4_000,
      retries: 0,
      offlineAfter: 100,
    });
    await poller.start();
    await vi.advanceTimersByTimeAsync(14_000);
    bSilent = false;
    await vi.advanceTimersByTimeAsync(7_000);
    await poller.stop();
    const starts = requestsTo(bus, B).map((r) => r.at - 1_000_000);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    // 1 s after the first failure, then 2 s, 4 s (the cap), 4 s; answered at ~13 s, then 1 s again
    expect(gaps.slice(0, 5)).toEqual([1_000, 2_000, 4_000, 4_000, 4_000]);
    expect(gaps.slice(-3)).toEqual([1_000, 1_000, 1_000]);
    expect(poller.deviceState('m2')?.consecutiveFailures).toBe(0);
  });

  it('reports offline once after N failed polls and online once when the device answers again', async () => {
    let bSilent = false;
    const { bus, poller, h } = setup((address) => (address === B && bSilent ? [] : prompt(address)), [A, B], {
      pollIntervalMs: 1_000,
      backoffCapMs: 2_000,
    });
    await poller.start();
    await vi.advanceTimersByTimeAsync(500);
    bSilent = true;
    await vi.advanceTimersByTimeAsync(30_000);
    const probesWhileOffline = requestsTo(bus, B).length;
    await vi.advanceTimersByTimeAsync(10_000);
    // once offline, a probe is one attempt (no retries) every 2 s
    expect(requestsTo(bus, B).length - probesWhileOffline).toBe(5);
    bSilent = false;
    await vi.advanceTimersByTimeAsync(5_000);
    await poller.stop();
    expect(h.availability.filter((a) => a.device === 'm2')).toEqual([
      { device: 'm2', online: true },
      { device: 'm2', online: false },
      { device: 'm2', online: true },
    ]);
    expect(h.availability.filter((a) => a.device === 'm1')).toEqual([{ device: 'm1', online: true }]);
  });

  it('never credits a late answer of one meter to the meter asked after it', async () => {
    // A answers 250 ms after its request (timeout 200); B never answers
    const { poller, h } = setup(
      (address) => (address === A ? [{ bytes: cjt188Answer(A, 1), delayMs: 250 }] : []),
      [A, B],
      { retries: 0, offlineAfter: 100 },
    );
    await poller.start();
    await vi.advanceTimersByTimeAsync(5_000);
    await poller.stop();
    // A was asked at 20 and timed out at 220, B asked at once; A's answer (270) landed while B was in flight
    expect(h.answers).toEqual([]);
    expect(poller.counters().discarded.late).toBe(1);
    expect(h.discards).toContainEqual({ reason: 'late', bytes: expect.any(Number), inFlight: 'm2', from: 'm1' });
    expect(poller.deviceState('m2')?.answers).toBe(0);
    expect(poller.counters().failedPolls).toBe(2);
  });

  it('a late answer while B is asked does not stop B from getting its own answer', async () => {
    const { poller, h } = setup(
      (address) =>
        address === A
          ? [{ bytes: cjt188Answer(A, 1), delayMs: 250 }]
          : [{ bytes: cjt188Answer(address, 2), delayMs: 100 }],
      [A, B],
      { retries: 0 },
    );
    await poller.start();
    await vi.advanceTimersByTimeAsync(1_000);
    await poller.stop();
    expect(h.answers.map((a) => [a.device, a.address])).toEqual([['m2', B]]);
    expect(poller.counters().discarded.late).toBe(1);
  });

  it('counts discards by reason: other address, echo, refused, noise, late', async () => {
    const stranger = '00000000000099';
    const { bus, poller, h } = setup((address, req) => {
      if (address === A) return [{ bytes: req, delayMs: 5 }, ...prompt(A)]; // echoes the request first
      if (address === B) return [{ bytes: cjt188Answer(stranger, 3), delayMs: 50 }]; // wrong address
      const bad = cjt188Answer(C, 4);
      bad[bad.length - 2] = ((bad[bad.length - 2] as number) + 1) & 0xff; // wrong checksum
      return [{ bytes: Buffer.concat([Buffer.from('0102', 'hex'), bad]), delayMs: 50 }];
    });
    await poller.start();
    await vi.advanceTimersByTimeAsync(1_500);
    bus.later(cjt188Answer(A, 9), 0); // unsolicited, nothing in flight
    await vi.advanceTimersByTimeAsync(100);
    await poller.stop();
    expect(h.answers.map((a) => a.device)).toEqual(['m1']);
    const c = poller.counters();
    expect(c.discarded).toEqual({ late: 1, 'other-address': 3, echo: 1, refused: 3, noise: 6 });
    expect(c.refusedByReason).toEqual({ 'bad-checksum': 3 });
    expect(h.discards.find((d) => d.reason === 'echo')).toEqual({
      reason: 'echo',
      bytes: 16, // the FE preamble is not part of the frame
      inFlight: 'm1',
      from: 'm1',
    });
  });

  it('stop() cancels every timer and nothing is written or reported after it', async () => {
    const { bus, poller, h } = setup((address) => (address === B ? [] : prompt(address)));
    await poller.start();
    await vi.advanceTimersByTimeAsync(100); // B in flight, its timeout pending
    const written = bus.requests.length;
    await poller.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(bus.requests.length).toBe(written);
    expect(h.answers.map((a) => a.device)).toEqual(['m1']);
    expect(bus.memory.isOpen).toBe(false);
  });
});
