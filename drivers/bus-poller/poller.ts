/**
 * The bus poller: one ByteTransport (an RS-485 serial port) shared by many devices, asked one at
 * a time. One request in flight; a response timeout; a quiet line before every request; retries;
 * a slower schedule for a device that keeps failing; online/offline transitions reported once.
 * A frame is credited only to the device being asked and only when that device's matcher claims
 * it: anything else (late, other address, echo, refused, noise) is discarded and counted
 * (attribution.ts).
 */
import type { Clock } from '../sdk/clock.js';
import type { ByteTransport } from '../sdk/driver.js';
import { describeError } from '../sdk/errors.js';
import type { Logger } from '../sdk/log.js';
import { openTransport } from '../sdk/open-transport.js';
import { reopenDelayOf } from '../sdk/stream-driver.js';
import { createFrameAttribution, emptyCounters, type Safely, type Slot } from './attribution.js';
import { backoffDelayMs, type SilenceSpec, silenceMs, systemTimers, type Timers, wireTimeMs } from './timing.js';
import type { BusDevice, BusPollerCounters, DeviceState, Discard, PollFailure } from './types.js';

export { systemTimers, type Timers } from './timing.js';
export * from './types.js';

export interface BusPollerOptions {
  transport: ByteTransport;
  /** Devices on this bus, asked in this order when several are due at once. */
  devices: readonly BusDevice<unknown>[];
  /** Child logger with component and bus bound. */
  log: Logger;
  clock: Clock;
  timers?: Timers;
  /** Default poll interval, from the start of one poll of a device to the next, ms. */
  pollIntervalMs: number;
  /** Default wait for an answer after the request left the port, ms. */
  responseTimeoutMs: number;
  /** Quiet line before each request, after the last byte sent or received. */
  silence: SilenceSpec;
  /** When given, the time the request takes on the wire is added to the response timeout. */
  line?: { baud: number; bitsPerChar?: number };
  /** Extra attempts after a timeout; default 2. A device already offline gets one attempt per probe. */
  retries?: number;
  /** Failed polls in a row before `offline`; default 3. */
  offlineAfter?: number;
  /** Each failed poll in a row multiplies the wait by this; default 2. */
  backoffFactor?: number;
  /** The slowest schedule: a failing device is probed at this interval, ms; default 60 000. */
  backoffCapMs?: number;
  onAvailability?(device: string, online: boolean, reason: string): void;
  onDiscard?(discard: Discard): void;
  onPollFailed?(failure: PollFailure): void;
}

export interface BusPoller {
  /** Opens the transport and starts polling. Throws StartupError when the port cannot be opened. */
  start(): Promise<void>;
  /** Idempotent: cancels every timer and closes the transport; no callback runs after it resolves. */
  stop(): Promise<void>;
  counters(): BusPollerCounters;
  deviceState(id: string): DeviceState | undefined;
}

interface InFlight {
  slot: Slot;
  request: Buffer;
  attempt: number;
  sentAt: number;
  pollStartedAt: number;
  timer: unknown;
}

export function createBusPoller(opts: BusPollerOptions): BusPoller {
  const { transport, log, clock } = opts;
  const timers = opts.timers ?? systemTimers;
  const retries = opts.retries ?? 2;
  const offlineAfter = opts.offlineAfter ?? 3;
  const backoffFactor = opts.backoffFactor ?? 2;
  const backoffCapMs = opts.backoffCapMs ?? 60_000;
  const quietMs = silenceMs(opts.silence);
  const reopenDelayMs = reopenDelayOf(transport);

  const ids = new Set<string>();
  const slots: Slot[] = opts.devices.map((device, index) => {
    if (ids.has(device.id)) throw new RangeError(`device id "${device.id}" appears twice on ${transport.address}`);
    ids.add(device.id);
    return {
      device,
      index,
      lastSent: undefined,
      state: { online: undefined, consecutiveFailures: 0, nextPollAt: 0, answers: 0, failedPolls: 0 },
    };
  });

  const counters = emptyCounters();

  let running = false;
  let inFlight: InFlight | undefined;
  let retry: { slot: Slot; attempt: number; pollStartedAt: number } | undefined;
  let sendTimer: unknown;
  let reopenTimer: unknown;
  let lastActivityAt = 0;
  let waitingSince = 0;
  let rest: Buffer = Buffer.alloc(0);
  let framingSlot: Slot | undefined = slots[0];

  const safely: Safely = (fn, message, device) => {
    try {
      fn();
    } catch (err) {
      log.error({ err, device }, message);
    }
  };
  const { discard, judge, classifyStray } = createFrameAttribution({ slots, counters, log, safely, hooks: opts });

  const setOnline = (slot: Slot, online: boolean, reason: string): void => {
    if (slot.state.online === online) return;
    slot.state.online = online;
    if (online) log.info({ device: slot.device.id, reason }, 'Device online');
    else log.warn({ device: slot.device.id, reason }, 'Device offline');
    if (opts.onAvailability)
      safely(() => opts.onAvailability?.(slot.device.id, online, reason), 'Availability handler failed');
  };

  const intervalOf = (slot: Slot) => slot.device.pollIntervalMs ?? opts.pollIntervalMs;
  const timeoutOf = (slot: Slot) => slot.device.responseTimeoutMs ?? opts.responseTimeoutMs;

  /** The retry first, else the device due earliest (list order breaks ties). */
  const nextUp = (): { slot: Slot; attempt: number; pollStartedAt?: number } | undefined => {
    if (retry) return retry;
    let best: Slot | undefined;
    for (const s of slots) if (!best || s.state.nextPollAt < best.state.nextPollAt) best = s;
    return best && { slot: best, attempt: 1 };
  };

  const schedule = (): void => {
    if (!running || inFlight || sendTimer !== undefined) return;
    const next = nextUp();
    if (!next) return;
    const now = clock.now();
    const dueAt = next.attempt > 1 ? now : next.slot.state.nextPollAt;
    const wait = Math.max(0, dueAt - now, lastActivityAt + quietMs - now);
    waitingSince = now;
    if (wait <= 0) onSendTimer();
    else sendTimer = timers.setTimeout(onSendTimer, wait);
  };

  const onSendTimer = (): void => {
    sendTimer = undefined;
    if (!running || inFlight) return;
    const now = clock.now();
    const quietLeft = lastActivityAt + quietMs - now;
    // bytes kept arriving during the wait: wait for a quiet line, but never longer than one timeout
    if (quietLeft > 0 && now - waitingSince < opts.responseTimeoutMs) {
      sendTimer = timers.setTimeout(onSendTimer, quietLeft);
      return;
    }
    const next = nextUp();
    if (!next) return;
    if (next.attempt === 1 && next.slot.state.nextPollAt > now) {
      schedule();
      return;
    }
    retry = undefined;
    send(next.slot, next.attempt, next.pollStartedAt ?? now);
  };

  const send = (slot: Slot, attempt: number, pollStartedAt: number): void => {
    let request: Buffer;
    try {
      request = slot.device.request();
    } catch (err) {
      log.error({ err, device: slot.device.id }, 'Request builder failed; device skipped for one interval');
      slot.state.nextPollAt = clock.now() + Math.max(intervalOf(slot), timeoutOf(slot));
      schedule();
      return;
    }
    if (rest.length > 0) {
      // a partial frame still on the line belongs to no request from here on
      discard({ reason: 'noise', bytes: rest.length });
      rest = Buffer.alloc(0);
    }
    const now = clock.now();
    const onWire = opts.line ? wireTimeMs(request.length, opts.line.baud, opts.line.bitsPerChar) : 0;
    const flight: InFlight = { slot, request, attempt, sentAt: now, pollStartedAt, timer: undefined };
    flight.timer = timers.setTimeout(() => onTimeout(flight), timeoutOf(slot) + onWire);
    inFlight = flight;
    slot.lastSent = request;
    framingSlot = slot;
    lastActivityAt = now + onWire;
    counters.requests++;
    log.trace({ device: slot.device.id, attempt, requestHex: request.toString('hex') }, 'Request sent');
    transport.write(request).catch((err: unknown) => {
      if (inFlight !== flight) return;
      log.warn({ device: slot.device.id, err: describeError(err) }, 'Request write failed');
      timers.clearTimeout(flight.timer);
      onTimeout(flight);
    });
  };

  const onTimeout = (flight: InFlight): void => {
    if (!running || inFlight !== flight) return;
    inFlight = undefined;
    counters.timeouts++;
    const { slot } = flight;
    const attempts = slot.state.online === false ? 1 : 1 + retries;
    if (flight.attempt < attempts) {
      retry = { slot, attempt: flight.attempt + 1, pollStartedAt: flight.pollStartedAt };
      log.debug({ device: slot.device.id, attempt: flight.attempt }, 'No answer; retrying');
      schedule();
      return;
    }
    counters.failedPolls++;
    slot.state.failedPolls++;
    slot.state.consecutiveFailures++;
    const n = slot.state.consecutiveFailures;
    const base = Math.max(intervalOf(slot), timeoutOf(slot));
    const delay = backoffDelayMs({ intervalMs: base, factor: backoffFactor, capMs: backoffCapMs }, n - 1);
    slot.state.nextPollAt = flight.pollStartedAt + delay;
    const nextPollInMs = Math.max(0, slot.state.nextPollAt - clock.now());
    log.debug(
      { device: slot.device.id, attempts: flight.attempt, consecutiveFailures: n, nextPollInMs },
      'Poll failed',
    );
    if (opts.onPollFailed) {
      const failure: PollFailure = {
        device: slot.device.id,
        attempts: flight.attempt,
        consecutiveFailures: n,
        nextPollInMs,
      };
      safely(() => opts.onPollFailed?.(failure), 'Poll failure handler failed', slot.device.id);
    }
    if (n >= offlineAfter) setOnline(slot, false, `no answer to ${n} polls in a row`);
    schedule();
  };

  const answered = (flight: InFlight, value: unknown): void => {
    timers.clearTimeout(flight.timer);
    inFlight = undefined;
    const { slot } = flight;
    const now = clock.now();
    counters.answers++;
    slot.state.answers++;
    const wasFailing = slot.state.consecutiveFailures;
    slot.state.consecutiveFailures = 0;
    slot.state.nextPollAt = flight.pollStartedAt + intervalOf(slot);
    setOnline(slot, true, wasFailing > 0 ? `answered after ${wasFailing} failed polls` : 'answered');
    const info = { attempt: flight.attempt, elapsedMs: now - flight.sentAt };
    safely(() => slot.device.onAnswer(value, info), 'Answer handler failed', slot.device.id);
  };

  const onFrame = (frame: Buffer): void => {
    const flight = inFlight;
    if (!flight) {
      classifyStray(frame, undefined);
      return;
    }
    const verdict = judge(flight.slot, frame, flight.request);
    if (verdict.verdict === 'mine') answered(flight, verdict.value);
    else classifyStray(frame, flight.slot, verdict.verdict === 'not-mine' ? undefined : verdict);
  };

  const onData = (chunk: Buffer): void => {
    if (!running) return;
    lastActivityAt = Math.max(lastActivityAt, clock.now());
    const splitter = framingSlot;
    if (!splitter) {
      discard({ reason: 'noise', bytes: chunk.length });
      return;
    }
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let frames: Buffer[];
    try {
      const out = splitter.device.split(buf);
      rest = out.rest;
      frames = out.frames;
      if (out.discarded > 0) discard({ reason: 'noise', bytes: out.discarded });
    } catch (err) {
      log.error({ err, device: splitter.device.id }, 'Frame splitter failed');
      discard({ reason: 'noise', bytes: buf.length });
      rest = Buffer.alloc(0);
      return;
    }
    for (const frame of frames) {
      if (!running) return;
      onFrame(frame);
    }
    if (running && !inFlight) schedule();
  };

  const halt = (): void => {
    if (inFlight) timers.clearTimeout(inFlight.timer);
    inFlight = undefined;
    retry = undefined;
    if (sendTimer !== undefined) timers.clearTimeout(sendTimer);
    sendTimer = undefined;
    rest = Buffer.alloc(0);
  };

  const reopen = (): void => {
    reopenTimer = timers.setTimeout(() => {
      reopenTimer = undefined;
      if (!running) return;
      transport.open().then(
        () => {
          if (!running) {
            void transport.close().catch(() => undefined);
            return;
          }
          log.info({ address: transport.address }, 'Transport reopened');
          lastActivityAt = clock.now();
          schedule();
        },
        (err: unknown) => {
          log.debug({ err: describeError(err), address: transport.address }, 'Transport reopen failed');
          if (running) reopen();
        },
      );
    }, reopenDelayMs);
  };

  transport.onData(onData);
  transport.onClose((err) => {
    if (!running) return;
    log.warn(
      { err: err ? describeError(err) : undefined, address: transport.address, reopenDelayMs },
      'Transport closed',
    );
    halt();
    reopen();
  });

  // a device may bring its next poll forward (its interval was shortened at run time)
  for (const slot of slots)
    slot.device.bindPollSoon?.(() => {
      if (!running || inFlight?.slot === slot || retry?.slot === slot) return;
      const now = clock.now();
      if (slot.state.nextPollAt <= now) return;
      slot.state.nextPollAt = now;
      if (sendTimer !== undefined) {
        timers.clearTimeout(sendTimer);
        sendTimer = undefined;
      }
      schedule();
    });

  return {
    async start() {
      if (running) return;
      await openTransport(transport);
      const now = clock.now();
      for (const s of slots) s.state.nextPollAt = now;
      lastActivityAt = now;
      running = true;
      schedule();
    },
    async stop() {
      if (!running && reopenTimer === undefined) return;
      running = false;
      halt();
      if (reopenTimer !== undefined) timers.clearTimeout(reopenTimer);
      reopenTimer = undefined;
      await transport.close();
    },
    counters() {
      return structuredClone(counters);
    },
    deviceState(id) {
      const s = slots.find((x) => x.device.id === id);
      return s && { ...s.state };
    },
  };
}
