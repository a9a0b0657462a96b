/**
 * Composition root of the edge agent: wires devices -> agent -> durable outbox -> uplink, and
 * the optional health endpoint. Every reading and event goes straight into the outbox, which
 * writes it to disk within `delivery.commitInterval`; the uplink composes messages from there. The driver registry and the transport factory are injected, so
 * tests run the real agent with a test driver over an in-memory transport.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { LoadedGatewayConfig } from '../../config/load.js';
import { type Clock, systemClock } from '../../drivers/sdk/clock.js';
import type { Logger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { HealthMessage } from '../../drivers/sdk/wire.js';
import { Agent, type DriverRegistry, type RetryPolicy, type TransportFactory } from './agent.js';
import { CameraDiscovery } from './camera-discovery.js';
import { deviceCommandHandler } from './device-commands.js';
import { DEVICE_STATE_FILE, FileDeviceStateStore } from './device-state.js';
import { DiskOutbox, OUTBOX_FILE } from './disk-outbox.js';
import { evidenceSink } from './evidence-sink.js';
import { type EdgeStatus, type HealthServer, startHealthServer } from './health.js';
import { newBootId, type Outbox } from './outbox.js';
import { Uplink } from './uplink.js';

/** Hub commands addressed to one device (`{ id?, device, ...args }`), routed to its driver. */
const DEVICE_COMMANDS = ['capture', 'sample-interval'] as const;

/**
 * The inventory is republished at most this often: thousands of vehicle terminals connecting at
 * once would otherwise publish thousands of full inventories.
 */
const STATE_REPUBLISH_MS = 250;

/** Runs `fn` at once, or once at the end of the window when it ran less than `ms` ago. */
function throttled(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  return () => {
    if (timer) return;
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      last = Date.now();
      fn();
    }, wait);
    timer.unref();
  };
}

export interface EdgeDeps {
  registry: DriverRegistry;
  createTransport: TransportFactory;
  logger: Logger;
  clock?: Clock;
  /** Driver start retry backoff; default 1 s doubling to 60 s. */
  retry?: RetryPolicy;
  /** How long stop() waits for the hub to acknowledge what is still queued. Default 2000 ms. */
  drainTimeout?: number;
  /** Tests: SQLite reports a full disk beyond this many pages. */
  outboxMaxPages?: number;
}

export interface EdgeHandle {
  readonly bootId: string;
  readonly metrics: MetricsRegistry;
  /** Health endpoint URL, when `http.port` is not 0. */
  readonly healthUrl: string | undefined;
  status(): EdgeStatus;
  /** Stops drivers, commits the outbox, waits briefly for hub acks, publishes offline, ends MQTT. */
  stop(): Promise<void>;
}

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export async function startEdge(loaded: LoadedGatewayConfig, deps: EdgeDeps): Promise<EdgeHandle> {
  const cfg = loaded.gateway;
  const clock = deps.clock ?? systemClock;
  const log = deps.logger;
  const metrics = new MetricsRegistry();
  const bootId = newBootId(clock);
  const address = { district: cfg.gateway.district, gateway: cfg.gateway.id };

  const outbox: Outbox = DiskOutbox.open({
    file: path.join(loaded.dataDir, OUTBOX_FILE),
    bootId,
    clock,
    log: log.child({ component: 'edge.outbox' }),
    metrics,
    maxReadings: cfg.batch.maxReadings,
    maxDelay: cfg.batch.maxDelay,
    quota: cfg.delivery.quota,
    compactWindows: cfg.delivery.compactWindows,
    commitInterval: cfg.delivery.commitInterval,
    ...(deps.outboxMaxPages ? { maxPages: deps.outboxMaxPages } : {}),
  });
  // Declared before use in the closures below; assigned right after.
  let agent: Agent | undefined;
  const uplink: Uplink = new Uplink({
    url: cfg.hub.url,
    address,
    password: cfg.hub.password,
    keepalive: cfg.hub.keepalive,
    reconnectPeriod: cfg.hub.reconnectPeriod,
    resendAfter: cfg.delivery.resendAfter,
    maxInFlight: cfg.delivery.maxInFlight,
    backlogInFlight: cfg.delivery.backlogInFlight,
    version: packageVersion(),
    outbox,
    inventory: () => agent?.inventory() ?? [],
    health: {
      every: cfg.hub.healthInterval,
      report: (): Pick<HealthMessage, 'outbox' | 'devices' | 'devicesOnline'> => {
        const o = outbox.stats();
        return {
          outbox: { items: o.items, backlog: o.backlog, bytes: o.bytes, oldestUnackedAgeMs: uplink.oldestUnackedAge() },
          devices: cfg.devices.length,
          devicesOnline: agent?.onlineCount() ?? 0,
        };
      },
    },
    clock,
    log: log.child({ component: 'edge.uplink' }),
    metrics,
  });
  outbox.onChange(() => uplink.notify());
  agent = new Agent(cfg.devices, {
    registry: deps.registry,
    createTransport: deps.createTransport,
    sink: {
      reading: (r) => outbox.addReading(r),
      event: (e) => outbox.addEvent(e),
      evidence: evidenceSink({
        outbox,
        maxBytes: cfg.delivery.maxEvidenceBytes,
        log: log.child({ component: 'edge.evidence' }),
        metrics,
      }),
    },
    log: log.child({ component: 'edge.agent' }),
    clock,
    metrics,
    ...(deps.retry ? { retry: deps.retry } : {}),
    onAvailabilityChange: throttled(() => uplink.publishState(), STATE_REPUBLISH_MS),
    buses: cfg.buses,
    servers: cfg.servers,
    stateStore: new FileDeviceStateStore(
      path.join(loaded.dataDir, DEVICE_STATE_FILE),
      log.child({ component: 'edge.device-state' }),
    ),
  });
  const running = agent;
  const discovery = cfg.discovery.onvif.enabled
    ? new CameraDiscovery({
        gatewayId: cfg.gateway.id,
        intervalMs: cfg.discovery.onvif.interval,
        probeTimeoutMs: cfg.discovery.onvif.timeout,
        log: log.child({ component: 'edge.discovery' }),
        now: () => clock.now(),
        emitEvent: (e) => outbox.addEvent(e),
      })
    : undefined;
  for (const name of DEVICE_COMMANDS) uplink.registerCommand(name, deviceCommandHandler(running, name));

  metrics.gauge('citygrid_edge_outbox_depth', 'Readings and events taken and not yet acknowledged by the hub.', (g) =>
    g.set({}, outbox.stats().items),
  );
  metrics.gauge('citygrid_edge_outbox_messages', 'Composed messages waiting for the hub ack.', (g) =>
    g.set({}, outbox.stats().messages),
  );
  metrics.gauge('citygrid_edge_outbox_backlog', 'Readings taken while the link was down, not yet sent.', (g) =>
    g.set({}, outbox.stats().backlog),
  );
  metrics.gauge('citygrid_edge_outbox_bytes', 'Bytes the outbox holds, counted against delivery.quota.', (g) =>
    g.set({}, outbox.stats().bytes),
  );
  metrics.gauge(
    'citygrid_edge_oldest_unacked_age_seconds',
    'Age of the oldest reading or event not acknowledged by the hub.',
    (g) => g.set({}, uplink.oldestUnackedAge() / 1000),
  );

  const status = (): EdgeStatus => ({
    gateway: cfg.gateway.id,
    bootId,
    connected: uplink.connected,
    devices: cfg.devices.length,
    devicesOnline: running.onlineCount(),
    outboxDepth: outbox.stats().items,
    outboxMessages: outbox.stats().messages,
    outboxBacklog: outbox.stats().backlog,
    outboxBytes: outbox.stats().bytes,
    inFlight: uplink.inFlightCount,
    oldestUnackedAgeMs: uplink.oldestUnackedAge(),
  });

  let health: HealthServer | undefined;
  if (cfg.http.port !== 0) {
    health = await startHealthServer({
      host: cfg.http.host,
      port: cfg.http.port,
      metrics,
      status,
      log: log.child({ component: 'edge.health' }),
    });
  }

  uplink.start();
  running.start();
  discovery?.start();
  log.info({ bootId, devices: cfg.devices.length, hub: cfg.hub.url }, 'Edge agent started');

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    await discovery?.stop();
    await running.stop();
    outbox.commit();
    const drained = await uplink.drain(deps.drainTimeout ?? 2000);
    if (!drained) log.warn({ ...outbox.stats() }, 'Stopping with readings the hub has not acknowledged (kept on disk)');
    await uplink.stop();
    await outbox.close();
    await health?.close();
    log.info('Edge agent stopped');
  };

  return {
    bootId,
    metrics,
    healthUrl: health?.url,
    status,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
