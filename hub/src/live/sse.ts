/**
 * Server-Sent Events feed of the live bus (`/api/stream`): `event: reading` (the Reading plus
 * district, gateway, asset, grid, receivedAt), `event: event`, `event: gateway`, `event: case`, `event: incident`, `event: closure`
 * (a case opened, joined or moved: `effect` plus the case without its history). New clients
 * first get the latest reading of every device. A comment line every 15 s keeps proxies from
 * closing an idle stream. A client that does not keep up is dropped once `maxBufferedBytes` sit
 * unsent in its socket, rather than letting the hub's memory grow. Each stream carries only what
 * its session's user may see (auth/scope.ts) and ends when the session ends (checked at each
 * heartbeat).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { seesCase, seesDistrict } from '../auth/scope.js';
import type { ConsoleUser } from '../auth/users.js';
import type { CaseUpdate, LiveBus, LiveReading } from './bus.js';
import type { LatestValueCache } from './latest-cache.js';

export interface SseOptions {
  heartbeatMs?: number;
  maxBufferedBytes?: number;
}

/** The JSON shape of one reading on the stream and in /api/readings/latest. */
export function readingJson(r: LiveReading): Record<string, unknown> {
  return {
    ...r.reading,
    district: r.district,
    gateway: r.gateway,
    asset: r.asset ?? r.reading.asset,
    grid: r.grid,
    receivedAt: r.receivedAt,
  };
}

/**
 * A case change on the stream: the effect and the case without its full history (GET
 * /api/cases/<id> has it), with the entry just added.
 */
export function caseJson({ effect, case: c }: CaseUpdate): Record<string, unknown> {
  const { history, ...rest } = c;
  return { effect, ...rest, last: history.at(-1) };
}

/** Whose stream it is: events outside the user's scope are not sent; it ends when the session does. */
export interface StreamViewer {
  user: ConsoleUser;
  /** False once the session has ended (logout, expiry): checked at every heartbeat. */
  alive(): boolean;
}

/** Which clients an event goes to. */
type Audience = (user: ConsoleUser) => boolean;
const EVERYONE: Audience = () => true;

export class SseFeed {
  private readonly clients = new Map<ServerResponse, StreamViewer>();
  private readonly heartbeatMs: number;
  private readonly maxBufferedBytes: number;
  private readonly dropped;
  private readonly unsubscribe: (() => void)[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    bus: LiveBus,
    private readonly latest: LatestValueCache,
    private readonly log: Logger,
    metrics: MetricsRegistry,
    opts: SseOptions = {},
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
    this.dropped = metrics.counter(
      'citygrid_live_sse_dropped_total',
      'SSE clients dropped because they did not keep up.',
    );
    metrics.gauge('citygrid_live_sse_clients', 'Connected SSE clients.', (g) => g.set({}, this.clients.size));
    this.unsubscribe.push(
      // Checked here, not only in broadcast(): building the JSON of every reading for nobody cost
      // ~12 % of the hub's CPU in the ingest bench.
      bus.on('reading', (r) => {
        if (this.clients.size > 0) this.broadcast('reading', readingJson(r), (u) => seesDistrict(u, r.district));
      }),
      bus.on('event', (e) =>
        this.broadcast(
          'event',
          { ...e.event, district: e.district, gateway: e.gateway, receivedAt: e.receivedAt },
          (u) => seesDistrict(u, e.district),
        ),
      ),
      bus.on('gateway', (g) => this.broadcast('gateway', g, (u) => seesDistrict(u, g.district))),
      bus.on('case', (c) => this.broadcast('case', caseJson(c), (u) => seesCase(u, c.case))),
      bus.on('profile', (p) => this.broadcast('profile', p, EVERYONE)),
      // Emergencies are city-wide news: every role sees incidents and closures (the routes scope the detail).
      bus.on('incident', ({ effect, incident: { history, ...rest } }) =>
        this.broadcast('incident', { effect, ...rest, last: history.at(-1) }, EVERYONE),
      ),
      bus.on('closure', (c) => this.broadcast('closure', { action: c.action, ...c.closure }, EVERYONE)),
    );
  }

  /** Takes over one HTTP request as an event stream of what `viewer` may see, until the client goes away or the session ends. */
  accept(req: IncomingMessage, res: ServerResponse, viewer: StreamViewer): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': citygrid live stream\n\n');
    this.clients.set(res, viewer);
    const forget = () => this.clients.delete(res);
    req.on('close', forget);
    res.on('close', forget);
    res.on('error', forget);
    for (const r of this.latest.query())
      if (seesDistrict(viewer.user, r.district)) this.send(res, 'reading', readingJson(r));
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.ping(), this.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /** Ends the streams of sessions that ended, and keeps the others' proxies from closing them. */
  private ping(): void {
    for (const [res, viewer] of this.clients) {
      if (viewer.alive()) continue;
      this.clients.delete(res);
      res.end();
    }
    this.writeAll(': ping\n\n', EVERYONE);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Ends every stream and stops listening to the bus. */
  close(): void {
    for (const off of this.unsubscribe) off();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
  }

  private broadcast(event: string, data: unknown, audience: Audience): void {
    if (this.clients.size === 0) return;
    this.writeAll(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`, audience);
  }

  private send(res: ServerResponse, event: string, data: unknown): void {
    this.write(res, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private writeAll(chunk: string, audience: Audience): void {
    for (const [res, viewer] of this.clients) if (audience(viewer.user)) this.write(res, chunk);
  }

  private write(res: ServerResponse, chunk: string): void {
    if (res.writableLength > this.maxBufferedBytes) {
      this.clients.delete(res);
      this.dropped.inc();
      this.log.warn({ buffered: res.writableLength }, 'Slow SSE client dropped');
      res.destroy();
      return;
    }
    res.write(chunk);
  }
}
