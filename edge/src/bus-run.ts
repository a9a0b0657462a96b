/**
 * One shared bus of a gateway (a `buses:` entry): its transport, one bus poller, and the polled
 * devices on it. Turns the poller's callbacks into the agent's availability transitions and into
 * per-bus metrics: requests, answers, failed polls and every discarded frame by reason.
 */
import type { BusConfig, DeviceConfig, TransportConfig } from '../../config/schema/gateway.js';
import { type BusPoller, createBusPoller } from '../../drivers/bus-poller/poller.js';
import { DEFAULT_BITS_PER_CHAR, modbusSilenceMs } from '../../drivers/bus-poller/timing.js';
import type { Clock } from '../../drivers/sdk/clock.js';
import type { ByteTransport, PolledDevice } from '../../drivers/sdk/driver.js';
import type { DecodeReason } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';

export interface BusMember {
  run: DeviceConfig;
  /** Builds the device's PolledDevice (the driver's createPolled); throws when it cannot. */
  build(): PolledDevice;
}

export interface BusRunDeps {
  members: readonly BusMember[];
  createTransport(cfg: TransportConfig): ByteTransport;
  /** Child logger with component and bus bound. */
  log: Logger;
  clock: Clock;
  metrics: MetricsRegistry;
  setAvailability(device: string, online: boolean, reason: string): void;
  countDecodeError(device: string, reason: DecodeReason): void;
}

/** Never less than this between frames, whatever the baud: USB adapters and ptys deliver in bursts. */
const MIN_SILENCE_MS = 20;

/** Bits per character on the wire: start + data + parity + stop. */
export function bitsPerChar(t: TransportConfig): number {
  if (t.type !== 'serial') return DEFAULT_BITS_PER_CHAR;
  return 1 + t.dataBits + (t.parity === 'none' ? 0 : 1) + t.stopBits;
}

/** The quiet time before each request: configured, else t3.5 at the line's baud, at least 20 ms. */
export function busSilenceMs(bus: BusConfig): number {
  if (bus.silence !== undefined) return bus.silence;
  if (bus.transport.type !== 'serial') return MIN_SILENCE_MS;
  return Math.max(MIN_SILENCE_MS, modbusSilenceMs(bus.transport.baudRate, bitsPerChar(bus.transport)));
}

export class BusRun {
  readonly log: Logger;
  private poller: BusPoller | undefined;

  constructor(
    private readonly bus: BusConfig,
    private readonly deps: BusRunDeps,
  ) {
    this.log = deps.log;
  }

  /** Builds the devices and the poller (once) and opens the line; throws StartupError when it cannot. */
  async start(): Promise<void> {
    this.poller ??= this.createPoller();
    await this.poller.start();
    this.log.info({ transport: this.bus.transport.type, devices: this.deps.members.length }, 'Bus polling started');
  }

  async stop(): Promise<void> {
    await this.poller?.stop();
  }

  private createPoller(): BusPoller {
    const { bus, deps } = this;
    const m = deps.metrics;
    const requests = m.counter('citygrid_edge_bus_requests_total', 'Requests sent on a bus, by bus.');
    const answers = m.counter('citygrid_edge_bus_answers_total', 'Answers credited to a device, by bus and device.');
    const failed = m.counter(
      'citygrid_edge_bus_failed_polls_total',
      'Polls that got no answer after every retry, by bus and device.',
    );
    const discarded = m.counter(
      'citygrid_edge_bus_discarded_total',
      'Frames thrown away instead of being credited to a device, by bus and reason (late, other-address, echo, refused, noise; noise in bytes).',
    );
    const devices: PolledDevice[] = [];
    for (const member of deps.members) {
      let device: PolledDevice;
      try {
        device = member.build();
      } catch (err) {
        deps.log.error({ device: member.run.id, err: String(err) }, 'Device cannot be set up; left off the bus');
        deps.setAvailability(member.run.id, false, `cannot be set up: ${String(err)}`);
        continue;
      }
      const id = member.run.id;
      // counted here so the poller stays free of metrics; the getters keep run-time interval changes visible
      devices.push(
        Object.create(device, {
          id: { value: id },
          request: {
            value: () => {
              requests.inc({ bus: bus.id });
              return device.request();
            },
          },
          onAnswer: {
            value: (value: unknown, info: Parameters<PolledDevice['onAnswer']>[1]) => {
              answers.inc({ bus: bus.id, device: id });
              device.onAnswer(value, info);
            },
          },
        }) as PolledDevice,
      );
    }
    const t = bus.transport;
    return createBusPoller({
      transport: deps.createTransport(t),
      devices,
      log: deps.log,
      clock: deps.clock,
      pollIntervalMs: bus.pollInterval,
      responseTimeoutMs: bus.responseTimeout,
      silence: { ms: busSilenceMs(bus) },
      ...(t.type === 'serial' ? { line: { baud: t.baudRate, bitsPerChar: bitsPerChar(t) } } : {}),
      retries: bus.retries,
      offlineAfter: bus.offlineAfter,
      backoffCapMs: bus.backoffCap,
      onAvailability: (device, online, reason) => deps.setAvailability(device, online, reason),
      onPollFailed: (f) => failed.inc({ bus: bus.id, device: f.device }),
      onDiscard: (d) => {
        discarded.inc({ bus: bus.id, reason: d.reason }, d.reason === 'noise' ? d.bytes : 1);
        if (d.reason === 'refused' && d.decodeReason)
          deps.countDecodeError(d.inFlight ?? `bus:${bus.id}`, d.decodeReason);
      },
    });
  }
}
