/**
 * Composition root of the hub: city config -> grid lookup, broker (embedded aedes or an external
 * broker), telemetry store + batching writer, ingest, live bus + latest cache + SSE, HTTP API.
 * The only place in hub/ that builds things; everything else receives its dependencies.
 */
import type { LoadedHubConfig } from '../../config/load.js';
import { StartupError } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import { MAX_UPLINK_BYTES, type UplinkChannel } from '../../drivers/sdk/wire.js';
import { ConsoleAuth } from './auth/console-auth.js';
import { seesCase } from './auth/scope.js';
import { buildAccountBook } from './broker/accounts.js';
import { startEmbeddedBroker } from './broker/embedded.js';
import { connectExternalBroker } from './broker/external.js';
import type { BrokerLink } from './broker/link.js';
import { HubCases } from './cases/hub-cases.js';
import { CaptureCommands } from './evidence/capture.js';
import { evidenceService } from './evidence/service.js';
import { EvidenceStore } from './evidence/store.js';
import { gridResolver } from './geo.js';
import { ApiGuard } from './http/guard.js';
import { type HttpApi, startHttpApi } from './http/server.js';
import { HubIncidents } from './incidents/hub-incidents.js';
import { fleetCoverage } from './incidents/situation.js';
import { GatewayRegistry } from './ingest/gateways.js';
import type { StoredItems } from './ingest/ingest.js';
import { Ingest } from './ingest/ingest.js';
import { openWatermarkStore } from './ingest/watermark-store.js';
import { LiveBus } from './live/bus.js';
import { LatestValueCache } from './live/latest-cache.js';
import { SseFeed } from './live/sse.js';
import {
  createTelemetryStore,
  createTelemetryWriter,
  openSpoolFor,
  writerOptionsFromConfig,
} from './telemetry/index.js';
import type { TelemetryStore } from './telemetry/types.js';

export interface StartHubOptions {
  logger: Logger;
  /** Overrides `mqtt.port` of an embedded broker (0: a free port). */
  mqttPort?: number;
  /** Overrides `http.port` (0: a free port). */
  httpPort?: number;
  /** Uplink channels to ingest. Default telemetry, event, media, state. */
  channels?: readonly UplinkChannel[];
  /** Longest stop() waits for the sink to make pending points durable. Default 10 s. */
  drainTimeoutMs?: number;
  /** Run the case core (rules, cases.db, /api/cases). Default true; the benchmark harness turns it off. */
  cases?: boolean;
  /** Period of the case clock (rule timers, overdue, capture retries). Default 5 s. */
  caseTickMs?: number;
  /** Clock of the case core and fleet judging (deadlines); tests pass a controllable one. Default Date.now. */
  now?: () => number;
  /** Clock of console sessions and the login rate limit (ms since epoch); tests inject one. Default Date.now. */
  consoleClock?: () => number;
}

export interface RunningHub {
  /** Where gateways connect: the embedded broker's actual URL, or the external broker's. */
  mqttUrl: string;
  /** Base URL of the HTTP API. */
  httpUrl: string;
  metrics: MetricsRegistry;
  /** Drains the sink (bounded), sends owed acks, closes broker, HTTP and stores. Idempotent. */
  stop(): Promise<void>;
}

const WATERMARK_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** A sink lagging more than this is reported `lagging` on /healthz. */
const SINK_LAG_WARN_MS = 30_000;

/**
 * Opens the telemetry store, retrying while it is unreachable. With a disk spool (InfluxDB), the
 * hub does not wait for InfluxDB: after a few attempts it starts anyway and the writer spools
 * until InfluxDB is back (its writes create the database when it is missing).
 */
async function openStore(store: TelemetryStore, log: Logger, canStartWithout: boolean): Promise<void> {
  const attempts = canStartWithout ? 3 : 10;
  for (let attempt = 1; ; attempt++) {
    try {
      await store.open();
      return;
    } catch (err) {
      if (!(err instanceof StartupError && err.retryable)) throw err;
      if (attempt >= attempts) {
        if (!canStartWithout) throw err;
        log.warn(
          { store: store.name, err: err.message },
          'Telemetry store not reachable; spooling to disk until it is',
        );
        return;
      }
      log.warn({ store: store.name, attempt, err: err.message }, 'Telemetry store not reachable, retrying');
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
}

export async function startHub(loaded: LoadedHubConfig, opts: StartHubOptions): Promise<RunningHub> {
  const { hub, city, dataDir } = loaded;
  const log = opts.logger.child({ hub: hub.hubId });
  const metrics = new MetricsRegistry();
  metrics.gauge('citygrid_process_resident_memory_bytes', 'Resident set size of the hub process.', (g) =>
    g.set({}, process.memoryUsage.rss()),
  );
  const cleanups: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error({ err }, 'Error while stopping');
      }
    }
    cleanups.length = 0;
  };

  try {
    const store = createTelemetryStore(hub.telemetry, dataDir, log, metrics);
    const spool = openSpoolFor(store, hub.telemetry, dataDir);
    await openStore(store, log, spool !== undefined);
    cleanups.push(() => store.close());
    const writerOptions = writerOptionsFromConfig(hub.telemetry);
    // Enough pending points to keep every write slot busy with a full batch twice over; beyond
    // that the ingest holds deliveries and the backlog stays in the broker / edge outboxes.
    const highWaterMark =
      2 * (writerOptions.batchSize ?? 5000) * (writerOptions.maxInFlight ?? 2) + (writerOptions.batchSize ?? 5000);
    const writer = createTelemetryWriter(store, { ...writerOptions, highWaterMark, spool }, log, metrics);
    cleanups.push(() => writer.close());
    const watermarks = openWatermarkStore(dataDir);
    // Boots not heard of for a month will not re-send anything.
    watermarks.prune(Date.now() - WATERMARK_RETENTION_MS);
    cleanups.push(() => watermarks.close());

    const brokerLog = log.child({ component: 'hub.broker' });
    let link: BrokerLink;
    let maxPayloadBytes: number;
    if (hub.mqtt.mode === 'embedded') {
      const port = opts.mqttPort ?? hub.mqtt.port;
      link = await startEmbeddedBroker(
        { host: hub.mqtt.host, port, id: hub.hubId },
        buildAccountBook(hub.accounts, city),
        brokerLog,
        metrics,
      );
      maxPayloadBytes = hub.mqtt.maxPayloadBytes;
    } else {
      link = await connectExternalBroker(
        { url: hub.mqtt.url, clientId: hub.mqtt.clientId, username: hub.mqtt.username, password: hub.mqtt.password },
        brokerLog,
      );
      maxPayloadBytes = MAX_UPLINK_BYTES;
    }
    cleanups.push(() => link.close());

    const bus = new LiveBus(log.child({ component: 'hub.live' }));
    const latest = new LatestValueCache();
    latest.attach(bus);
    const registry = new GatewayRegistry(city);
    metrics.gauge('citygrid_gateways_online', 'Gateways whose last state message says online.', (g) =>
      g.set({}, registry.onlineCount),
    );
    const resolve = gridResolver(city);
    const evidenceStore = await EvidenceStore.open(dataDir);
    cleanups.push(() => evidenceStore.close());
    const capture = new CaptureCommands({
      link,
      registry,
      city,
      log: log.child({ component: 'hub.capture' }),
      metrics,
    });
    await capture.start();
    let cases: HubCases | undefined;
    if (opts.cases !== false) {
      const built = new HubCases({
        loaded,
        bus,
        log: log.child({ component: 'hub.cases' }),
        metrics,
        capture,
        ...(opts.caseTickMs !== undefined ? { tickMs: opts.caseTickMs } : {}),
        ...(opts.now ? { now: opts.now } : {}),
      });
      cases = built;
      // Closed after the ingest drained (cleanups run in reverse), so what was stored reaches the cases.
      cleanups.push(() => built.close());
    }
    let incidents: HubIncidents | undefined;
    if (cases) {
      const built = new HubIncidents({
        config: hub.incidents,
        city,
        dataDir,
        bus,
        link,
        registry,
        capture,
        cases,
        log: log.child({ component: 'hub.incidents' }),
        metrics,
        ...(opts.now ? { now: opts.now } : {}),
      });
      incidents = built;
      // Before the cases close (cleanups run in reverse): it shares cases.db and the case core.
      cleanups.push(() => built.close());
      await built.start();
    }
    // Fleet judging needs the case core (its cases, its cases.db); loaded only for a city with roads
    // (@turf is a large module: a hub without a fleet does not pay for it at start).
    let fleet: import('./fleet/hub-fleet.js').HubFleet | undefined;
    if (cases && city.roads.length > 0) {
      const { HubFleet } = await import('./fleet/hub-fleet.js');
      const built = new HubFleet({
        loaded,
        cases,
        bus,
        log: log.child({ component: 'hub.fleet' }),
        metrics,
        ...(opts.now ? { now: opts.now } : {}),
      });
      fleet = built;
      // Pushed after the cases: closed before them, with the ingest drained.
      cleanups.push(() => built.close());
    }
    const caseFeed = cases?.onStored;
    const fleetFeed = fleet?.onStored;
    const onStored =
      caseFeed && fleetFeed
        ? (items: StoredItems) => {
            caseFeed(items);
            fleetFeed(items);
          }
        : caseFeed;
    const ingest = new Ingest({
      link,
      writer,
      watermarks,
      registry,
      bus,
      log: log.child({ component: 'hub.ingest' }),
      metrics,
      resolveGrid: resolve,
      maxPayloadBytes,
      acceptUnknownGateways: hub.mqtt.mode === 'external',
      channels: opts.channels ?? ['telemetry', 'event', 'media', 'state', 'health'],
      ...(onStored ? { onStored } : {}),
      evidence: evidenceService({
        store: evidenceStore,
        log: log.child({ component: 'hub.evidence' }),
        metrics,
        onCommandEvidence: (commandId, evidenceId) => capture.evidenceArrived(commandId, evidenceId),
      }),
    });
    // Stopping runs in reverse: drain the sink first (acks still owed go out while the link is up).
    cleanups.push(async () => {
      try {
        await writer.drain(opts.drainTimeoutMs ?? 10_000);
      } catch (err) {
        log.warn(
          { err: (err as Error).message, pending: writer.pending },
          'Telemetry not fully drained; the edges will re-send it',
        );
      }
      ingest.close();
    });
    await ingest.start();

    const sse = new SseFeed(bus, latest, log.child({ component: 'hub.http' }), metrics);
    const http: HttpApi = await startHttpApi(
      { host: hub.http.host, port: opts.httpPort ?? hub.http.port },
      {
        registry,
        latest,
        sse,
        metrics,
        city,
        guard: new ApiGuard(
          new ConsoleAuth(hub.console, log.child({ component: 'hub.auth' }), metrics, {
            ...(opts.consoleClock ? { now: opts.consoleClock } : {}),
          }),
          metrics,
        ),
        evidence: {
          store: evidenceStore,
          capture,
          scope: {
            gatewayDistrict: (gateway) => registry.districtOf(gateway),
            deviceDistrict: (device) => registry.listDevices().find((d) => d.id === device)?.district,
            assetDistrict: (asset) => city.assets.find((a) => a.id === asset)?.district,
            handlerAssets: (user) =>
              new Set(
                (cases?.service.store.list({ unit: user.unit as string, limit: 5000 }) ?? [])
                  .filter((c) => seesCase(user, c) && c.asset !== undefined)
                  .map((c) => c.asset as string),
              ),
          },
        },
        ...(cases ? { cases: { cases, evidence: evidenceStore, timeZone: city.city.timezone, city } } : {}),
        data: { store, registry, latest, city, ...(cases ? { cases } : {}) },
        ...(incidents
          ? {
              incidents: {
                incidents,
                latest,
                registry,
                city,
                ...(cases ? { cases } : {}),
                ...(fleet ? { coverage: fleetCoverage(fleet, city, opts.now ?? Date.now) } : {}),
                ...(opts.now ? { now: opts.now } : {}),
              },
            }
          : {}),
        ...(fleet ? { fleet: { fleet, ...(opts.now ? { now: opts.now } : {}) } } : {}),
        console: { ...(hub.console.tileUrl ? { tileUrl: hub.console.tileUrl } : {}) },
        log: log.child({ component: 'hub.http' }),
        health: () => {
          const lagMs = writer.lagMs(Date.now());
          return {
            ok: link.connected(),
            hubId: hub.hubId,
            broker: { mode: link.mode, url: link.url, connected: link.connected() },
            sink: {
              name: store.name,
              state: lagMs > SINK_LAG_WARN_MS ? 'lagging' : 'ok',
              pendingPoints: writer.pending,
              lagSeconds: lagMs / 1000,
            },
            gateways: { known: city.gateways.length, online: registry.onlineCount },
          };
        },
      },
    );
    // Pushed last, so stopped first: SSE clients end before the drain.
    cleanups.push(() => http.close());

    log.info({ mqtt: link.url, http: http.url, broker: link.mode, sink: store.name }, 'Listening');
    let stopping: Promise<void> | undefined;
    return {
      mqttUrl: link.url,
      httpUrl: http.url,
      metrics,
      stop: () => {
        stopping ??= stopAll().then(() => log.info('Stopped'));
        return stopping;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
