/**
 * Runs the devices of one gateway: builds each driver instance with its context, supervises its
 * start (retrying a retryable StartupError with backoff), turns what the driver emits into
 * validated Readings, Events and evidence, and reports availability transitions once each.
 * Devices on a shared bus are handed to one bus poller per bus (bus-run.ts). Hub commands for a
 * device are routed to its driver. One device failing never stops the others.
 */
import type { BusConfig, DeviceConfig, ServerConfig, TransportConfig } from '../../config/schema/gateway.js';
import type { AnyDriverDefinition } from '../../drivers/registry.js';
import type { Clock } from '../../drivers/sdk/clock.js';
import type {
  ByteTransport,
  DeviceCommand,
  DeviceCommandResult,
  DeviceStore,
  DriverContext,
  DriverContextBase,
  DriverEvidence,
  DriverInstance,
  PolledDevice,
  SessionDevice,
} from '../../drivers/sdk/driver.js';
import { CitygridError, describeError, StartupError } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import { type CityEvent, eventSchema, type Reading, readingSchema } from '../../drivers/sdk/reading.js';
import type { DeviceInventoryItem } from '../../drivers/sdk/wire.js';

import { BusRun } from './bus-run.js';
import { type DeviceStateStore, MemoryDeviceStateStore } from './device-state.js';
import { Jt808ServerRun } from './jt808-server.js';
import { superviseStart } from './supervise.js';

/** The slice of the driver registry (drivers/index.ts) the agent needs. */
export interface DriverRegistry {
  /** Throws for an unknown id. */
  get(id: string): AnyDriverDefinition;
}

export type TransportFactory = (cfg: TransportConfig) => ByteTransport;

/** Evidence as the agent hands it on: the driver's, with the device it came from. */
export type AgentEvidence = DriverEvidence & { device: string; kind: string; asset?: string };

export interface AgentSink {
  reading(reading: Reading): void;
  event(event: CityEvent): void;
  /** Absent where evidence has nowhere to go yet; the agent then counts and drops it. */
  evidence?(evidence: AgentEvidence): void;
}

/** A hub command names a device this gateway does not have, or one whose driver takes no commands. */
export class DeviceCommandError extends CitygridError {
  constructor(code: 'UNKNOWN_DEVICE' | 'COMMAND_UNSUPPORTED', message: string) {
    super(code, message);
  }
}

export interface RetryPolicy {
  /** ms before the first retry. */
  initialDelay: number;
  /** ms between retries at most. */
  maxDelay: number;
}

export interface AgentDeps {
  registry: DriverRegistry;
  createTransport: TransportFactory;
  sink: AgentSink;
  log: Logger;
  clock: Clock;
  metrics: MetricsRegistry;
  retry?: RetryPolicy;
  /** Called after a device changed availability (the uplink republishes the inventory). */
  onAvailabilityChange?: () => void;
  /** Shared lines the `bus:` devices sit on. */
  buses?: readonly BusConfig[];
  /** Listeners the `server:` devices connect to. */
  servers?: readonly ServerConfig[];
  /** Persistent per-device state; default in memory (lost on restart). */
  stateStore?: DeviceStateStore;
}

type Availability = 'unknown' | 'online' | 'offline';

interface DeviceRun {
  readonly config: DeviceConfig;
  readonly log: Logger;
  availability: Availability;
  /** A stream device's driver instance, once built. */
  instance?: DriverInstance;
  /** A bus device's PolledDevice, once built. */
  polled?: PolledDevice;
}

const DEFAULT_RETRY: RetryPolicy = { initialDelay: 1000, maxDelay: 60_000 };

export class Agent {
  private readonly runs: DeviceRun[];
  private readonly abort = new AbortController();
  private readonly supervisors: Promise<void>[] = [];
  private stopped = false;
  private readonly readingsTotal;
  private readonly invalidTotal;
  private readonly decodeErrors;
  private readonly discardedBytes;
  private readonly startFailures;
  private readonly evidenceDropped;
  private readonly deviceErrors;
  private readonly stateStore: DeviceStateStore;
  private readonly busRuns: BusRun[] = [];
  private readonly serverRuns: Jt808ServerRun[] = [];

  constructor(
    devices: readonly DeviceConfig[],
    private readonly deps: AgentDeps,
  ) {
    this.runs = devices.map((config) => ({
      config,
      log: deps.log.child({ device: config.id, driver: config.driver }),
      availability: 'unknown',
    }));
    const m = deps.metrics;
    this.readingsTotal = m.counter('citygrid_edge_readings_total', 'Readings accepted from drivers, by device.');
    this.invalidTotal = m.counter(
      'citygrid_edge_invalid_total',
      'Readings or events refused by validation, by device and type.',
    );
    this.decodeErrors = m.counter('citygrid_edge_decode_errors_total', 'Frames a codec refused, by device and reason.');
    this.discardedBytes = m.counter(
      'citygrid_edge_discarded_bytes_total',
      'Bytes that belonged to no frame, by device.',
    );
    this.startFailures = m.counter(
      'citygrid_edge_device_start_failures_total',
      'Failed driver starts, by device and retryable.',
    );
    this.evidenceDropped = m.counter(
      'citygrid_edge_evidence_dropped_total',
      'Evidence a driver produced that this agent has nowhere to send, by device.',
    );
    this.deviceErrors = m.counter(
      'citygrid_edge_device_errors_total',
      'Driver failures other than refused frames (wrong password, bad snapshot, capture timeout), by device and code.',
    );
    this.stateStore = deps.stateStore ?? new MemoryDeviceStateStore();
    m.gauge('citygrid_edge_devices', 'Configured devices.', (g) => g.set({}, this.runs.length));
    m.gauge('citygrid_edge_devices_online', 'Devices currently online.', (g) => g.set({}, this.onlineCount()));
  }

  /** Starts every device and bus in the background; returns at once. */
  start(): void {
    for (const run of this.runs)
      if (run.config.bus === undefined && run.config.server === undefined) this.supervisors.push(this.supervise(run));
    this.startServers();
    for (const bus of this.deps.buses ?? []) {
      const members = this.runs.filter((r) => r.config.bus === bus.id);
      if (members.length === 0) continue;
      const busRun = new BusRun(bus, {
        members: members.map((run) => ({ run: run.config, build: () => this.buildPolled(run) })),
        createTransport: this.deps.createTransport,
        log: this.deps.log.child({ component: 'edge.bus', bus: bus.id }),
        clock: this.deps.clock,
        metrics: this.deps.metrics,
        setAvailability: (device, online, reason) => {
          const run = this.runs.find((r) => r.config.id === device);
          if (run) this.setAvailability(run, online, reason);
        },
        countDecodeError: (device, reason) => this.decodeErrors.inc({ device, reason }),
      });
      this.busRuns.push(busRun);
      this.supervisors.push(
        superviseStart({
          start: () => busRun.start(),
          stopped: () => this.stopped,
          signal: this.abort.signal,
          retry: this.deps.retry ?? DEFAULT_RETRY,
          log: busRun.log,
          onFailure: (err, retryable) => {
            this.startFailures.inc({ device: `bus:${bus.id}`, retryable: String(retryable) });
            for (const m of members) this.setAvailability(m, false, describeError(err));
          },
        }).then(() => undefined),
      );
    }
    this.deps.log.info(
      { devices: this.runs.length, buses: this.busRuns.length, servers: this.serverRuns.length },
      'Started devices',
    );
  }

  /** The JT/T 808 servers, once started (tests read their ports). */
  servers(): readonly Jt808ServerRun[] {
    return this.serverRuns;
  }

  private startServers(): void {
    for (const server of this.deps.servers ?? []) {
      const members = this.runs.filter((r) => r.config.server === server.id);
      const byId = new Map(members.map((r) => [r.config.id, r]));
      const serverRun = new Jt808ServerRun(server, {
        members: members.map((run) => ({ run: run.config, build: () => this.buildSession(run) })),
        log: this.deps.log.child({ component: 'edge.jt808', server: server.id }),
        clock: this.deps.clock,
        metrics: this.deps.metrics,
        setAvailability: (device, online, reason) => {
          const run = byId.get(device);
          if (run) this.setAvailability(run, online, reason);
        },
        countDecodeError: (device, reason) => this.decodeErrors.inc({ device, reason }),
      });
      this.serverRuns.push(serverRun);
      this.supervisors.push(
        superviseStart({
          start: () => serverRun.start(),
          stopped: () => this.stopped,
          signal: this.abort.signal,
          retry: this.deps.retry ?? DEFAULT_RETRY,
          log: serverRun.log,
          onFailure: (err, retryable) => {
            this.startFailures.inc({ device: `server:${server.id}`, retryable: String(retryable) });
            for (const m of members) this.setAvailability(m, false, describeError(err));
          },
        }).then(() => undefined),
      );
    }
  }

  /** Routes a hub command to the driver of `device`. Throws DeviceCommandError or what the driver throws. */
  async command(device: string, cmd: DeviceCommand): Promise<DeviceCommandResult> {
    const run = this.runs.find((r) => r.config.id === device);
    if (!run) throw new DeviceCommandError('UNKNOWN_DEVICE', `no device "${device}" on this gateway`);
    const handler = run.instance?.command ?? run.polled?.command;
    if (!handler)
      throw new DeviceCommandError(
        'COMMAND_UNSUPPORTED',
        `device "${device}" (driver ${run.config.driver}) takes no "${cmd.name}" command`,
      );
    return handler.call(run.instance ?? run.polled, cmd);
  }

  /** Device configs of this gateway (for commands that address devices by kind). */
  devices(): readonly DeviceConfig[] {
    return this.runs.map((r) => r.config);
  }

  /** Stops every driver; nothing is emitted after it resolves. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    await Promise.allSettled(this.supervisors);
    await Promise.allSettled(this.busRuns.map((b) => b.stop()));
    await Promise.allSettled(this.serverRuns.map((s) => s.stop()));
    await Promise.allSettled(
      this.runs.map(async (run) => {
        try {
          await run.instance?.stop();
        } catch (err) {
          run.log.warn({ err: describeError(err) }, 'Driver stop failed');
        }
      }),
    );
    await this.stateStore.flush();
  }

  inventory(): DeviceInventoryItem[] {
    return this.runs.map((run) => ({
      id: run.config.id,
      kind: run.config.kind,
      driver: run.config.driver,
      ...(run.config.asset ? { asset: run.config.asset } : {}),
      online: run.availability === 'online',
    }));
  }

  onlineCount(): number {
    return this.runs.filter((r) => r.availability === 'online').length;
  }

  private async supervise(run: DeviceRun): Promise<void> {
    let instance: DriverInstance;
    try {
      instance = this.build(run);
      run.instance = instance;
    } catch (err) {
      this.startFailures.inc({ device: run.config.id, retryable: 'false' });
      run.log.error({ err: describeError(err) }, 'Device cannot be set up');
      this.setAvailability(run, false, describeError(err));
      return;
    }
    const started = await superviseStart({
      start: () => instance.start(),
      stopped: () => this.stopped,
      signal: this.abort.signal,
      retry: this.deps.retry ?? DEFAULT_RETRY,
      log: run.log,
      onFailure: (err, retryable) => {
        this.startFailures.inc({ device: run.config.id, retryable: String(retryable) });
        this.setAvailability(run, false, describeError(err));
      },
    });
    if (started) this.setAvailability(run, true);
  }

  /** What every driver gets, stream or polled: emitters bound to the device, its store, its logger. */
  private contextBase(run: DeviceRun): DriverContextBase<unknown> {
    const { config } = run;
    const device = { id: config.id, kind: config.kind, ...(config.asset ? { asset: config.asset } : {}) };
    const tag = config.asset ? { asset: config.asset } : {};
    const store: DeviceStore = {
      get: (key) => this.stateStore.get(config.id, key),
      set: (key, value) => this.stateStore.set(config.id, key, value),
    };
    return {
      device,
      options: config.options,
      log: run.log.child({ component: 'driver' }),
      clock: this.deps.clock,
      store,
      emitReading: (r) => this.acceptReading(run, { ...r, device: config.id, kind: config.kind, ...tag }),
      emitEvent: (e) => this.acceptEvent(run, { ...e, device: config.id, ...tag }),
      emitEvidence: (e) => this.acceptEvidence(run, { ...e, device: config.id, kind: config.kind, ...tag }),
      countDecodeError: (reason) => this.decodeErrors.inc({ device: config.id, reason }),
      countError: (code) => this.deviceErrors.inc({ device: config.id, code }),
    };
  }

  private buildPolled(run: DeviceRun): PolledDevice {
    const definition = this.deps.registry.get(run.config.driver);
    if (definition.access !== 'polled')
      throw new StartupError(`driver "${run.config.driver}" does not poll a bus`, false);
    run.polled = definition.createPolled(this.contextBase(run));
    return run.polled;
  }

  private buildSession(run: DeviceRun): SessionDevice {
    const definition = this.deps.registry.get(run.config.driver);
    if (definition.access !== 'session')
      throw new StartupError(`driver "${run.config.driver}" does not serve terminals that connect`, false);
    return definition.createSession({
      ...this.contextBase(run),
      setAvailability: (online, reason) => this.setAvailability(run, online, reason),
    });
  }

  private build(run: DeviceRun): DriverInstance {
    const { config } = run;
    const definition = this.deps.registry.get(config.driver);
    if (definition.access === 'network')
      return definition.create({
        ...this.contextBase(run),
        setAvailability: (online, reason) => this.setAvailability(run, online, reason),
      });
    if (definition.access === 'session')
      throw new StartupError(`driver "${config.driver}" serves a terminal: give the device "server"`, false);
    if (definition.access === 'polled' || config.transport === undefined)
      throw new StartupError(`driver "${config.driver}" polls a bus: give the device "bus", not "transport"`, false);
    const ctx: DriverContext<unknown> = {
      ...this.contextBase(run),
      transport: this.deps.createTransport(config.transport),
      setAvailability: (online, reason) => this.setAvailability(run, online, reason),
      countDiscardedBytes: (n) => this.discardedBytes.inc({ device: config.id }, n),
    };
    return definition.create(ctx);
  }

  private acceptReading(run: DeviceRun, candidate: unknown): void {
    if (this.stopped) return;
    const parsed = readingSchema.safeParse(candidate);
    if (!parsed.success) {
      this.invalidTotal.inc({ device: run.config.id, type: 'reading' });
      run.log.warn(
        { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
        'Invalid reading dropped',
      );
      return;
    }
    this.readingsTotal.inc({ device: run.config.id });
    this.deps.sink.reading(parsed.data);
  }

  private acceptEvent(run: DeviceRun, candidate: unknown): void {
    if (this.stopped) return;
    const parsed = eventSchema.safeParse(candidate);
    if (!parsed.success) {
      this.invalidTotal.inc({ device: run.config.id, type: 'event' });
      run.log.warn(
        { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
        'Invalid event dropped',
      );
      return;
    }
    this.deps.sink.event(parsed.data);
  }

  private acceptEvidence(run: DeviceRun, evidence: AgentEvidence): void {
    if (this.stopped) return;
    if (!this.deps.sink.evidence) {
      this.evidenceDropped.inc({ device: run.config.id });
      run.log.warn({ mediaType: evidence.mediaType, bytes: evidence.data.length }, 'Evidence dropped: no media path');
      return;
    }
    this.deps.sink.evidence(evidence);
  }

  /** Logs and publishes a transition once; repeated reports of the same state are ignored. */
  private setAvailability(run: DeviceRun, online: boolean, reason?: string): void {
    if (this.stopped) return;
    const next: Availability = online ? 'online' : 'offline';
    const previous = run.availability;
    if (previous === next) return;
    run.availability = next;
    if (online) run.log.info({ reason }, 'Device online');
    else run.log.warn({ reason }, 'Device offline');
    // The first successful start is reported by the birth inventory, not as a recovery event; a
    // terminal that connects to a server is news every time it comes online.
    if (!(online && previous === 'unknown' && run.config.server === undefined)) {
      const { config } = run;
      this.acceptEvent(run, {
        type: online ? 'device.online' : 'device.offline',
        severity: online ? 'info' : 'warning',
        device: config.id,
        ts: this.deps.clock.now(),
        ...(config.asset ? { asset: config.asset } : {}),
        ...(reason ? { data: { reason } } : {}),
      });
    }
    this.deps.onAvailabilityChange?.();
  }
}
