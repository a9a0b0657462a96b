/**
 * Runs the devices of one gateway: builds each driver instance with its context, supervises its
 * start (retrying a retryable StartupError with backoff), turns what the driver emits into
 * validated Readings and Events, and reports availability transitions once each.
 * One device failing never stops the others.
 */
import type { DeviceConfig, TransportConfig } from '../../config/schema/gateway.js';
import type { Clock } from '../../drivers/sdk/clock.js';
import type { ByteTransport, DriverContext, DriverDefinition, DriverInstance } from '../../drivers/sdk/driver.js';
import { describeError, StartupError } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import { type CityEvent, eventSchema, type Reading, readingSchema } from '../../drivers/sdk/reading.js';
import type { DeviceInventoryItem } from '../../drivers/sdk/wire.js';

/** The slice of the driver registry (drivers/index.ts) the agent needs. */
export interface DriverRegistry {
  /** Throws for an unknown id. */
  // biome-ignore lint/suspicious/noExplicitAny: each definition has its own options type; the agent only routes by id
  get(id: string): DriverDefinition<any>;
}

export type TransportFactory = (cfg: TransportConfig) => ByteTransport;

export interface AgentSink {
  reading(reading: Reading): void;
  event(event: CityEvent): void;
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
}

type Availability = 'unknown' | 'online' | 'offline';

interface DeviceRun {
  readonly config: DeviceConfig;
  readonly log: Logger;
  availability: Availability;
  instance?: DriverInstance;
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
    m.gauge('citygrid_edge_devices', 'Configured devices.', (g) => g.set({}, this.runs.length));
    m.gauge('citygrid_edge_devices_online', 'Devices currently online.', (g) => g.set({}, this.onlineCount()));
  }

  /** Starts every device in the background; returns at once. */
  start(): void {
    for (const run of this.runs) this.supervisors.push(this.supervise(run));
    this.deps.log.info({ devices: this.runs.length }, 'Started devices');
  }

  /** Stops every driver; nothing is emitted after it resolves. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    await Promise.allSettled(this.supervisors);
    await Promise.allSettled(
      this.runs.map(async (run) => {
        try {
          await run.instance?.stop();
        } catch (err) {
          run.log.warn({ err: describeError(err) }, 'Driver stop failed');
        }
      }),
    );
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
    try {
      run.instance = this.build(run);
    } catch (err) {
      this.startFailures.inc({ device: run.config.id, retryable: 'false' });
      run.log.error({ err: describeError(err) }, 'Device cannot be set up');
      this.setAvailability(run, false, describeError(err));
      return;
    }
    const retry = this.deps.retry ?? DEFAULT_RETRY;
    let delay = retry.initialDelay;
    while (!this.stopped) {
      try {
        await run.instance.start();
        if (this.stopped) return;
        this.setAvailability(run, true);
        return;
      } catch (err) {
        if (this.stopped) return;
        const retryable = err instanceof StartupError && err.retryable;
        this.startFailures.inc({ device: run.config.id, retryable: String(retryable) });
        this.setAvailability(run, false, describeError(err));
        if (!retryable) {
          run.log.error({ err: describeError(err) }, 'Device failed to start, giving up');
          return;
        }
        run.log.debug({ err: describeError(err), retryIn: delay }, 'Device failed to start, retrying');
        await this.sleep(delay);
        delay = Math.min(delay * 2, retry.maxDelay);
      }
    }
  }

  private build(run: DeviceRun): DriverInstance {
    const { config } = run;
    const definition = this.deps.registry.get(config.driver);
    const transport = this.deps.createTransport(config.transport);
    const device = { id: config.id, kind: config.kind, ...(config.asset ? { asset: config.asset } : {}) };
    const ctx: DriverContext<unknown> = {
      device,
      options: config.options,
      transport,
      log: run.log.child({ component: 'driver' }),
      clock: this.deps.clock,
      emitReading: (r) =>
        this.acceptReading(run, {
          ...r,
          device: config.id,
          kind: config.kind,
          ...(config.asset ? { asset: config.asset } : {}),
        }),
      emitEvent: (e) =>
        this.acceptEvent(run, { ...e, device: config.id, ...(config.asset ? { asset: config.asset } : {}) }),
      setAvailability: (online, reason) => this.setAvailability(run, online, reason),
      countDecodeError: (reason) => this.decodeErrors.inc({ device: config.id, reason }),
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

  /** Logs and publishes a transition once; repeated reports of the same state are ignored. */
  private setAvailability(run: DeviceRun, online: boolean, reason?: string): void {
    if (this.stopped) return;
    const next: Availability = online ? 'online' : 'offline';
    const previous = run.availability;
    if (previous === next) return;
    run.availability = next;
    if (online) run.log.info({ reason }, 'Device online');
    else run.log.warn({ reason }, 'Device offline');
    // The first successful start is reported by the birth inventory, not as a recovery event.
    if (!(online && previous === 'unknown')) {
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.abort.signal;
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
