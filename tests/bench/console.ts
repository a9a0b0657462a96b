/**
 * `npm run bench -- console [--assets 5000] [--cases 2000] [--rate 500] [--seconds 10]`: the
 * operator console in Debian's Chromium (playwright-core) against a real `citygrid hub` whose city
 * has `--assets` extra assets, `--cases` open cases (hotline reports on distinct assets) and
 * `--rate` readings a second published by bench gateways over MQTT, so the page's /api/stream
 * carries that many updates a second (plus vehicles moving on the map).
 *
 * Per view (map, cases, telemetry): time to first render (navigation start -> the view's content
 * drawn, ms), then over `--seconds` of live load the frame budget: requestAnimationFrame intervals
 * p50/p99/max, long tasks (>50 ms: count, total, longest), stream messages and render flushes a
 * second. JSON lines on stdout; progress on stderr. The load generator runs in this process and
 * everything shares the machine's cores, so the figures are an upper bound of what a control-room
 * PC would see.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import type { CaseRecord } from '../../hub/src/cases/model.js';
import { openCaseStore } from '../../hub/src/cases/store.js';
import { launchChromium, login, openConsole } from '../console/console-rig.js';
import { type CliProcess, startCli } from '../helpers/cli-process.js';
import { consoleFetch, testUser } from '../helpers/console-session.js';
import { writeHubConfig } from '../helpers/system-configs.js';
import { log, percentile } from './lib/proc.js';
import { benchGateways, gatewayMessages } from './lib/workload.js';

const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: 'console', ...o })}\n`);

function option(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

/** The example city with `n` extra road assets spread over its two districts' boxes. */
function bigCity(dir: string, n: number, gateways: { id: string; district: string }[]): void {
  const file = path.join(dir, 'city.yaml');
  const city = parse(readFileSync(file, 'utf8')) as {
    districts: { id: string; boundary: [number, number][] }[];
    assets: unknown[];
    gateways: unknown[];
  };
  let x = 12345;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
  for (let i = 0; i < n; i++) {
    const d = city.districts[i % city.districts.length] as (typeof city.districts)[number];
    const lons = d.boundary.map((p) => p[0]);
    const lats = d.boundary.map((p) => p[1]);
    const [lon0, lat0, lon1, lat1] = [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
    city.assets.push({
      id: `BENCH-${String(i + 1).padStart(5, '0')}`,
      name: `bench asset ${i + 1}`,
      kind: 'road',
      district: d.id,
      location: [lon0 + rnd() * (lon1 - lon0), lat0 + rnd() * (lat1 - lat0)].map((v) => Math.round(v * 1e6) / 1e6),
    });
  }
  for (const g of gateways) city.gateways.push({ id: g.id, district: g.district, name: `bench ${g.id}` });
  writeFileSync(file, stringify(city));
}

const URGENCY_CYCLE = ['normal', 'elevated', 'urgent', 'critical'] as const;
const STATE_CYCLE = ['reported', 'filed', 'dispatched', 'processing', 'feedback'] as const;

/**
 * `count` open cases on distinct bench assets, written into cases.db before the hub starts (hotline
 * reports in the same grid cell would join one case): mixed urgencies and states, deadlines spread
 * from overdue to days ahead.
 */
function seedCases(dir: string, count: number): number {
  const store = openCaseStore(path.join(dir, 'hub-data'));
  const now = Date.now();
  const cases: CaseRecord[] = [];
  for (let i = 0; i < count; i++) {
    const at = now - (i % 500) * 60_000;
    const state = STATE_CYCLE[i % STATE_CYCLE.length] as CaseRecord['state'];
    const stage =
      state === 'reported' ? undefined : state === 'filed' ? 'dispatch' : state === 'feedback' ? 'verify' : 'handle';
    cases.push({
      id: `BN-${String(i + 1).padStart(6, '0')}`,
      category: 'event:0406',
      source: 'hotline',
      urgency: URGENCY_CYCLE[i % URGENCY_CYCLE.length] as CaseRecord['urgency'],
      state,
      title: `bench case ${i + 1}`,
      asset: `BENCH-${String(i + 1).padStart(5, '0')}`,
      district: i % 2 === 0 ? 'xihu' : 'gongshu',
      unit: i % 2 === 0 ? 'xihu-cgj' : 'gongshu-cgj',
      reportedAt: at,
      deadlines: stage ? { [stage]: { startedAt: at, dueAt: now + ((i % 97) - 20) * 600_000, basis: 'natural' } } : {},
      reworkCount: 0,
      repeatCount: 0,
      history: [
        { seq: 1, at, action: 'report', from: 'reported', to: 'reported', actor: { id: 'bench', role: 'system' } },
      ],
    });
  }
  store.save({ cases }, now);
  store.close();
  return cases.length;
}

interface Load {
  stop(): Promise<number>;
}

/** `rate` readings a second from 10 bench gateways (50 devices each, a quarter of them vehicles), paced every 100 ms. */
async function startLoad(mqttUrl: string, gateways: ReturnType<typeof benchGateways>, rate: number): Promise<Load> {
  const batch = 10;
  const perTick = Math.max(1, Math.round(rate / 10 / batch)); // messages per 100 ms over all gateways
  const t0 = Date.now();
  const clients: MqttClient[] = [];
  const queues = gateways.map((gw, i) =>
    gatewayMessages(gw, i, gateways.length, rate * 600, batch, randomBytes(4).toString('hex'), t0),
  );
  for (const gw of gateways)
    clients.push(
      await new Promise<MqttClient>((resolve, reject) => {
        const c = connect(mqttUrl, { clientId: gw.id, username: gw.id, password: gw.password, reconnectPeriod: 0 });
        c.once('connect', () => resolve(c));
        c.once('error', reject);
      }),
    );
  let sent = 0;
  let tick = 0;
  const timer = setInterval(() => {
    for (let k = 0; k < perTick; k++) {
      const g = (tick * perTick + k) % gateways.length;
      const gw = gateways[g] as (typeof gateways)[number];
      const m = queues[g]?.shift();
      if (!m) continue;
      const body = `${m.head}${m.seq},"sentAt":${Date.now()}${m.tail}`;
      (clients[g] as MqttClient).publish(`cg/v1/${gw.district}/${gw.id}/telemetry`, body, { qos: 1 });
      sent += m.readings;
    }
    tick++;
  }, 100);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(clients.map((c) => c.endAsync()));
      return sent;
    },
  };
}

/** Runs in the page: rAF intervals, long tasks and the store's counters over `ms`. */
const MEASURE = `async (ms) => {
  const store = window.__cg;
  const intervals = [];
  const longTasks = [];
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration); });
  obs.observe({ type: 'longtask', buffered: false });
  const m0 = store.stats.messages;
  const f0 = store.stats.flushes;
  await new Promise((resolve) => {
    const start = performance.now();
    let last = start;
    const frame = (now) => {
      intervals.push(now - last);
      last = now;
      if (now - start < ms) requestAnimationFrame(frame);
      else resolve();
    };
    requestAnimationFrame(frame);
  });
  obs.disconnect();
  return { intervals, longTasks, messages: store.stats.messages - m0, flushes: store.stats.flushes - f0 };
}`;

/** Frame budget over `seconds`: rAF intervals, long tasks, stream messages and flushes on the page. */
async function frameBudget(page: Page, seconds: number): Promise<Record<string, number>> {
  // A string, not a function: tsx's name-keeping helper (__name) does not exist in the page.
  const r = (await page.evaluate(`(${MEASURE})(${seconds * 1000})`)) as {
    intervals: number[];
    longTasks: number[];
    messages: number;
    flushes: number;
  };
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    frames: r.intervals.length,
    rafP50Ms: round(percentile(r.intervals, 50)),
    rafP99Ms: round(percentile(r.intervals, 99)),
    rafMaxMs: round(Math.max(...r.intervals)),
    longTasks: r.longTasks.length,
    longTaskTotalMs: round(r.longTasks.reduce((a, b) => a + b, 0)),
    longTaskMaxMs: round(Math.max(0, ...r.longTasks)),
    streamMsgsPerS: round(r.messages / seconds),
    flushesPerS: round(r.flushes / seconds),
  };
}

export async function main(args: string[]): Promise<number> {
  const assets = option(args, 'assets', 5000);
  const cases = option(args, 'cases', 2000);
  const rate = option(args, 'rate', 500);
  const seconds = option(args, 'seconds', 10);
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-bench-console-'));
  const supervisor = testUser('bench-supervisor', 'city_supervisor');
  const gateways = benchGateways(10, () => randomBytes(12).toString('base64url'));
  let hub: CliProcess | undefined;
  let load: Load | undefined;
  const browser = await launchChromium();
  try {
    const mqttPort = await findFreePort();
    const httpPort = await findFreePort();
    const hubUrl = `http://127.0.0.1:${httpPort}`;
    writeHubConfig(dir, {
      hubId: 'hub-bench-console',
      mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
      httpPort,
      gateways: Object.fromEntries(gateways.map((g) => [g.id, g.password])),
      consoleUsers: [supervisor],
    });
    bigCity(dir, assets, gateways);
    const opened = seedCases(dir, Math.min(cases, assets));
    hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], { logFile: path.join(dir, 'hub.log') });
    await hub.waitFor(/"msg":"Listening"/, 60_000);
    const api = consoleFetch(hubUrl, supervisor);
    const listed = (await (await api('/api/cases?open=true&limit=1&offset=' + (opened - 1))).json()) as {
      items: unknown[];
    };
    out({ phase: 'setup', assets, openCases: opened, lastOpenCaseListed: listed.items.length === 1 });
    log(`hub with ${assets} extra assets and ${opened} open cases; live load ${rate} readings/s`);
    load = await startLoad(`mqtt://127.0.0.1:${mqttPort}`, gateways, rate);
    const cp = await openConsole(browser, hubUrl);
    await login(cp, supervisor);
    const { page } = cp;
    const views: { view: string; hash: string; ready: string }[] = [
      { view: 'map', hash: '#/map', ready: `#map-summary [data-assets="${assets + 10}"], #map-summary [data-assets]` },
      { view: 'cases', hash: '#/cases', ready: '#case-list [data-case]' },
      { view: 'telemetry', hash: '#/telemetry/XI-TN001-03', ready: '#live-values .live-value' },
    ];
    for (const v of views) {
      // A full page load per view: time to first render includes the bundle, /api/city, the open cases and the stream.
      await page.goto('about:blank');
      await page.goto(`${hubUrl}/${v.hash}`);
      await page.locator(v.ready).first().waitFor({ timeout: 60_000 });
      const ttfr = await page.evaluate(() => performance.now());
      const drawn = await page.evaluate(() =>
        document.querySelector('#map-summary [data-assets]')?.getAttribute('data-assets'),
      );
      const budget = await frameBudget(page, seconds);
      out({
        view: v.view,
        timeToFirstRenderMs: Math.round(ttfr),
        ...(drawn ? { markers: Number(drawn) } : {}),
        liveRate: rate,
        ...budget,
      });
    }
    out({ phase: 'done', readingsPublished: await load.stop(), pageErrors: cp.errors.length });
    load = undefined;
    return 0;
  } finally {
    await load?.stop();
    await browser.close();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
