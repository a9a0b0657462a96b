/**
 * Server-Sent Events feed of the live bus (`/api/stream`): `event: reading` (the Reading plus
 * district, gateway, asset, grid, receivedAt), `event: event`, `event: gateway`, `event: case`, `event: incident`, `event: closure`
 * (a case opened, joined or moved: `effect` plus the case without its history). New clients
 * first get the latest reading of every device. A comment line every 15 s keeps proxies from
 * closing an idle stream. A client that does not keep up is dropped once `maxBufferedBytes` sit
 * unsent in its socket, rather than letting the hub's memory grow.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
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

export class SseFeed {
  private readonly clients = new Set<ServerResponse>();
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
        if (this.clients.size > 0) this.broadcast('reading', readingJson(r));
      }),
      bus.on('event', (e) =>
        this.broadcast('event', { ...e.event, district: e.district, gateway: e.gateway, receivedAt: e.receivedAt }),
      ),
      bus.on('gateway', (g) => this.broadcast('gateway', g)),
      bus.on('case', (c) => this.broadcast('case', caseJson(c))),
      bus.on('profile', (p) => this.broadcast('profile', p)),
      bus.on('incident', ({ effect, incident: { history, ...rest } }) =>
        this.broadcast('incident', { effect, ...rest, last: history.at(-1) }),
      ),
      bus.on('closure', (c) => this.broadcast('closure', { action: c.action, ...c.closure })),
    );
  }

  /** Takes over one HTTP request as an event stream until the client goes away. */
  accept(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': citygrid live stream\n\n');
    this.clients.add(res);
    const forget = () => this.clients.delete(res);
    req.on('close', forget);
    res.on('close', forget);
    res.on('error', forget);
    for (const r of this.latest.query()) this.send(res, 'reading', readingJson(r));
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.writeAll(': ping\n\n'), this.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Ends every stream and stops listening to the bus. */
  close(): void {
    for (const off of this.unsubscribe) off();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.writeAll(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private send(res: ServerResponse, event: string, data: unknown): void {
    this.write(res, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private writeAll(chunk: string): void {
    for (const res of this.clients) this.write(res, chunk);
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
