import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import { type HttpApi, startHttpApi } from '../../hub/src/http/server.js';
import { GatewayRegistry } from '../../hub/src/ingest/gateways.js';
import { LiveBus, type LiveReading } from '../../hub/src/live/bus.js';
import { LatestValueCache } from '../../hub/src/live/latest-cache.js';
import { SseFeed } from '../../hub/src/live/sse.js';
import { type ConsoleFetch, consoleFetch, testGuard } from '../helpers/console-session.js';

const city = { gateways: [{ id: 'gw-xh-01', district: 'xihu', name: '西湖' }] };
const geometry = {
  city: { id: 'hz', name: 'HZ', timezone: 'Asia/Shanghai' },
  districts: [
    {
      id: 'xihu',
      name: '西湖区',
      adminCode: '330106',
      boundary: [
        [120.08, 30.22],
        [120.16, 30.22],
        [120.16, 30.3],
      ] as [number, number][],
    },
  ],
  gridCells: [],
  assets: [
    {
      id: 'BR-1',
      name: '西湖大桥',
      kind: 'bridge' as const,
      district: 'xihu',
      location: [120.1, 30.25] as [number, number],
    },
  ],
  routes: [],
};

function reading(device: string, ts: number, district = 'xihu'): LiveReading {
  return {
    reading: { device, kind: 'vehicle', ts, fields: { lat: 30.27, lon: 120.1 } },
    district,
    gateway: 'gw-xh-01',
    grid: '330106001001',
    receivedAt: ts + 5,
  };
}

describe('HTTP API', () => {
  let api: HttpApi;
  let bus: LiveBus;
  let registry: GatewayRegistry;
  let metrics: MetricsRegistry;
  let call: ConsoleFetch;

  beforeEach(async () => {
    bus = new LiveBus(silentLogger());
    const latest = new LatestValueCache();
    latest.attach(bus);
    registry = new GatewayRegistry(city);
    metrics = new MetricsRegistry();
    const sse = new SseFeed(bus, latest, silentLogger(), metrics, { heartbeatMs: 50 });
    api = await startHttpApi(
      { host: '127.0.0.1', port: 0 },
      {
        registry,
        latest,
        sse,
        metrics,
        city: geometry,
        log: silentLogger(),
        guard: testGuard(metrics),
        health: () => ({ ok: true, sink: { name: 'fake' } }),
      },
    );
    call = consoleFetch(api.url);
  });

  afterEach(async () => {
    await api.close();
  });

  const get = async (p: string) => {
    const res = await call(p);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  it('serves the city geometry for maps and the console bundle under a strict CSP', async () => {
    const city = await get('/api/city');
    expect(city.status).toBe(200);
    expect(JSON.parse(city.body)).toMatchObject({
      districts: [{ id: 'xihu' }],
      assets: [{ id: 'BR-1', location: [120.1, 30.25] }],
    });
    const res = await fetch(`${api.url}/`);
    const page = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page).toContain('src="/console/app.js"');
    // No inline script, and nothing from another origin: control-room networks are closed.
    expect(page).not.toMatch(/<script>|<script [^>]*>[^<]/);
    expect(page).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    const js = await fetch(`${api.url}/console/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const bundle = await js.text();
    expect(bundle).toContain('/api/stream');
    expect(bundle).not.toMatch(/https?:\/\/(unpkg|cdn|fonts\.googleapis)/);
    const css = await fetch(`${api.url}/console/app.css`);
    expect(css.status).toBe(200);
    expect(await css.text()).toContain('.leaflet-container');
    expect((await get('/console/../package.json')).status).toBe(404);
  });

  it('answers unknown routes and wrong methods with JSON errors', async () => {
    const missing = await get('/api/nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ error: 'not-found' });
    const post = await call('/api/gateways', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ error: 'method-not-allowed' });
  });

  it('lists gateways with state from birth messages, and devices from the inventory', async () => {
    registry.applyState(
      'xihu',
      {
        gateway: 'gw-xh-01',
        state: 'online',
        bootId: 'b1',
        ts: 1000,
        devices: [{ id: 'XH-GP001', kind: 'vehicle', driver: 'nmea-gps', asset: 'TRUCK-XH-01' }],
      },
      2000,
    );
    const gateways = JSON.parse((await get('/api/gateways')).body);
    expect(gateways).toEqual([
      expect.objectContaining({
        id: 'gw-xh-01',
        district: 'xihu',
        name: '西湖',
        online: true,
        bootId: 'b1',
        lastSeen: 2000,
        watermark: -1,
        gaps: 0,
      }),
    ]);
    expect(gateways[0].devices).toHaveLength(1);
    expect(JSON.parse((await get('/api/devices')).body)).toEqual([
      {
        id: 'XH-GP001',
        kind: 'vehicle',
        gateway: 'gw-xh-01',
        district: 'xihu',
        asset: 'TRUCK-XH-01',
        driver: 'nmea-gps',
        online: true,
      },
    ]);
    // An older state message (a will of a replaced connection) does not flip it offline.
    expect(registry.applyState('xihu', { gateway: 'gw-xh-01', state: 'offline', ts: 900 }, 2100)).toBe(false);
    expect(registry.get('gw-xh-01')?.online).toBe(true);
  });

  it('serves the latest reading per device with filters', async () => {
    bus.emit('reading', reading('A', 1000));
    bus.emit('reading', reading('A', 2000));
    bus.emit('reading', reading('A', 1500));
    bus.emit('reading', reading('B', 1000, 'gongshu'));
    const all = JSON.parse((await get('/api/readings/latest')).body) as { device: string; ts: number }[];
    expect(all.map((r) => [r.device, r.ts])).toEqual([
      ['A', 2000],
      ['B', 1000],
    ]);
    const filtered = JSON.parse((await get('/api/readings/latest?district=gongshu')).body) as { device: string }[];
    expect(filtered.map((r) => r.device)).toEqual(['B']);
  });

  it('serves Prometheus text on /metrics and the health report on /healthz', async () => {
    metrics.counter('citygrid_test_total', 'test').inc();
    const m = await get('/metrics');
    expect(m.type).toMatch(/^text\/plain/);
    expect(m.body).toContain('citygrid_test_total 1');
    expect(JSON.parse((await get('/healthz')).body)).toEqual({ ok: true, sink: { name: 'fake' } });
  });

  it('streams live readings as SSE, after a snapshot of the latest ones, with heartbeats', async () => {
    bus.emit('reading', reading('A', 1000));
    const controller = new AbortController();
    const res = await call('/api/stream', { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += Buffer.from(value).toString();
      }
    };
    await until(/"device":"A"/);
    bus.emit('reading', reading('C', 3000));
    await until(/event: reading\ndata: \{[^\n]*"device":"C"[^\n]*"district":"xihu","gateway":"gw-xh-01"/);
    await until(/: ping/);
    controller.abort();
  });
});

describe('SseFeed', () => {
  it('ends a stream at the first heartbeat after its session ended', async () => {
    const bus = new LiveBus(silentLogger());
    const feed = new SseFeed(bus, new LatestValueCache(), silentLogger(), new MetricsRegistry(), { heartbeatMs: 20 });
    let alive = true;
    let ended = false;
    const res = {
      writeHead: () => res,
      write: () => true,
      destroy: () => {},
      on: () => res,
      end: () => {
        ended = true;
      },
      writableLength: 0,
    } as unknown as ServerResponse;
    feed.accept({ on: () => {} } as never, res, {
      user: { id: 'c', name: 'c', role: 'district_commander', district: 'xihu' },
      alive: () => alive,
    });
    await new Promise((r) => setTimeout(r, 60));
    expect(ended).toBe(false);
    alive = false;
    for (let i = 0; i < 100 && !ended; i++) await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(true);
    expect(feed.clientCount).toBe(0);
    feed.close();
  });

  it('drops a client whose unsent buffer exceeds the bound instead of growing memory', () => {
    const bus = new LiveBus(silentLogger());
    const metrics = new MetricsRegistry();
    const feed = new SseFeed(bus, new LatestValueCache(), silentLogger(), metrics, { maxBufferedBytes: 100 });
    let destroyed = false;
    let writableLength = 0;
    const res = {
      writeHead: () => res,
      write: (chunk: string) => {
        writableLength += chunk.length; // never drains: a stalled client
        return false;
      },
      destroy: () => {
        destroyed = true;
      },
      on: () => res,
      end: () => {},
      get writableLength() {
        return writableLength;
      },
    } as unknown as ServerResponse;
    feed.accept({ on: () => {} } as never, res, {
      user: { id: 's', name: 's', role: 'city_supervisor' },
      alive: () => true,
    });
    for (let i = 0; i < 10 && !destroyed; i++) bus.emit('reading', reading(`D${i}`, 1000 + i));
    expect(destroyed).toBe(true);
    expect(feed.clientCount).toBe(0);
    expect(metrics.counter('citygrid_live_sse_dropped_total', '').get()).toBe(1);
    feed.close();
  });
});
