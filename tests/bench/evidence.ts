/**
 * `npm run bench -- evidence [--items 100] [--bytes 1000000] [--concurrency 8]`
 *
 * Evidence throughput through the durable path: the real hub and an edge process with the test
 * camera driver (tests/e2e/evidence/test-camera.ts), which answers each capture with a JPEG padded
 * to --bytes. --items captures are POSTed with at most --concurrency outstanding; each is done when
 * its evidence is durable at the hub. Reports items/s and MB/s from the first POST to the last
 * `storedAt`, and the POST -> stored latency. JSON line on stdout, progress on stderr.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { eventually, ROOT, startCli, startTsScript } from '../helpers/cli-process.js';
import { supervisorFetch } from '../helpers/console-session.js';
import { writeHubConfig } from '../helpers/system-configs.js';
import { log, percentile } from './lib/proc.js';

interface Options {
  items: number;
  bytes: number;
  concurrency: number;
}

const USAGE = 'usage: npm run bench -- evidence [--items 100] [--bytes 1000000] [--concurrency 8]';

function parseOptions(args: string[]): Options | undefined {
  const o: Options = { items: 100, bytes: 1_000_000, concurrency: 8 };
  const keys: Record<string, keyof Options> = {
    '--items': 'items',
    '--bytes': 'bytes',
    '--concurrency': 'concurrency',
  };
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = (args[i] as string).split('=', 2) as [string, string | undefined];
    const value = Number(inline ?? args[++i]);
    const key = keys[name];
    if (!key || !Number.isInteger(value) || value <= 0) return undefined;
    o[key] = value;
  }
  return o;
}

export async function main(args: string[]): Promise<number> {
  const o = parseOptions(args);
  if (!o) {
    console.error(USAGE);
    return 2;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-bench-evidence-'));
  const shots = path.join(dir, 'shots');
  mkdirSync(shots);
  const password = randomBytes(12).toString('base64url');
  const env = { CG_BENCH_GW_PW: password };
  const mqttPort = await findFreePort();
  const httpPort = await findFreePort();
  writeHubConfig(dir, {
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_BENCH_GW_PW}' },
  });
  writeFileSync(
    path.join(dir, 'gw-xh-01.yaml'),
    stringify({
      gateway: { id: 'gw-xh-01', district: 'xihu' },
      hub: { url: `mqtt://127.0.0.1:${mqttPort}`, password: '${CG_BENCH_GW_PW}', reconnectPeriod: '250ms' },
      dataDir: './edge-data',
      logLevel: 'warn',
      devices: [{ id: 'XH-CAM01', kind: 'camera', driver: 'test-camera', options: { outDir: shots } }],
    }),
  );
  const hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], { env, logFile: path.join(dir, 'hub.log') });
  const edge = startTsScript(
    path.join(ROOT, 'tests/e2e/evidence/edge-with-test-camera.ts'),
    ['--config', path.join(dir, 'gw-xh-01.yaml')],
    { env, logFile: path.join(dir, 'edge.log') },
  );
  const api = `http://127.0.0.1:${httpPort}`;
  try {
    await hub.waitFor(/"msg":"Listening"/);
    const post = async () => {
      const res = await supervisorFetch(`${api}/api/cameras/XH-CAM01/capture`, {
        method: 'POST',
        body: JSON.stringify({ preset: `pad-${o.bytes}` }),
      });
      return res.status === 202 ? ((await res.json()) as { commandId: string }).commandId : undefined;
    };
    await eventually(post, 30_000, 'the camera to be known at the hub');
    log(`evidence bench: ${o.items} items of ${o.bytes} bytes, ${o.concurrency} outstanding`);
    const latencies: number[] = [];
    let lastStored = 0;
    let next = 0;
    const t0 = Date.now();
    const worker = async () => {
      while (next < o.items) {
        next++;
        const posted = Date.now();
        const commandId = await post();
        if (!commandId) throw new Error('capture refused');
        const stored = await eventually(
          async () => {
            const list = (await (await supervisorFetch(`${api}/api/evidence?command=${commandId}`)).json()) as {
              storedAt: number;
            }[];
            return list[0]?.storedAt;
          },
          60_000,
          `evidence of ${commandId}`,
        );
        latencies.push(stored - posted);
        lastStored = Math.max(lastStored, stored);
        if (latencies.length % 20 === 0) log(`  ${latencies.length}/${o.items}`);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const seconds = (lastStored - t0) / 1000;
    console.log(
      JSON.stringify({
        bench: 'evidence',
        items: latencies.length,
        bytes: o.bytes,
        concurrency: o.concurrency,
        itemsPerS: Math.round((latencies.length / seconds) * 10) / 10,
        mbPerS: Math.round(((latencies.length * o.bytes) / 1e6 / seconds) * 10) / 10,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
      }),
    );
    return 0;
  } finally {
    await edge.stop('SIGTERM', 5000);
    await hub.stop('SIGTERM', 5000);
    rmSync(dir, { recursive: true, force: true });
  }
}
