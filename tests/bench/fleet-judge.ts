/**
 * `npm run bench -- fleet-judge [--segments 5000] [--vehicles 500] [--fixes 200000] [--seed 7]`
 *
 * The coverage judge (hub/src/fleet/judge.ts) in one process, without MQTT or storage: --segments
 * road segments (3-vertex centre lines of 150–400 m, scattered over a 20 x 20 km square), each
 * --vehicles sweeper assigned 10 of them; every vehicle drives its roads in turn, one fix per 10 s
 * at 18 km/h (50 m), working. Reported as JSON lines: the index build time, positions judged per
 * second (each a sampled stretch against the R-tree and @turf projections, plus the dwell /
 * off-route / speeding watch), p50/p99/max per position, and the coverage reached.
 */
import { along, destination, length, lineString } from '@turf/turf';
import type { Road, Vehicle } from '../../config/schema/fleet.js';
import { DEFAULT_WORK_SPEED_KMH } from '../../config/schema/fleet-judging.js';
import { CoverageJudge, type Fix } from '../../hub/src/fleet/judge.js';
import { LocalDays } from '../../hub/src/fleet/local-day.js';
import { dailyTasks } from '../../hub/src/fleet/plan.js';
import { log, percentile } from './lib/proc.js';

const opt = (args: string[], name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const out = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

export async function main(args: string[]): Promise<number> {
  const segments = opt(args, 'segments', 5000);
  const vehicleCount = opt(args, 'vehicles', 500);
  const fixes = opt(args, 'fixes', 200_000);
  const rnd = random(opt(args, 'seed', 7));
  const origin: [number, number] = [120.0, 30.2];
  const at = (xM: number, yM: number): [number, number] => {
    const p = destination(origin, xM / 1000, 90).geometry.coordinates as [number, number];
    return destination(p, yM / 1000, 0).geometry.coordinates as [number, number];
  };
  const roads: Road[] = Array.from({ length: segments }, (_, i) => {
    const x = rnd() * 20_000;
    const y = rnd() * 20_000;
    const bearing = rnd() * Math.PI;
    const leg = 75 + rnd() * 125;
    const p0 = at(x, y);
    const p1 = at(x + Math.cos(bearing) * leg, y + Math.sin(bearing) * leg);
    const p2 = at(x + Math.cos(bearing) * leg * 2 + 20, y + Math.sin(bearing) * leg * 2);
    return { id: `rd-${i}`, district: 'd1', path: [p0, p1, p2], priority: false };
  });
  const vehicles: Vehicle[] = Array.from({ length: vehicleCount }, (_, v) => ({
    id: `SW-${v}`,
    plate: `B${v}`,
    unit: 'u1',
    role: 'sweeper',
    district: 'd1',
    assignments: [
      {
        roads: Array.from({ length: 10 }, (_, k) => `rd-${(v * 10 + k) % segments}`),
        from: '00:00',
        by: '23:59',
        minCoverage: 0.9,
      },
    ],
    allowedStops: [],
  }));
  const t0 = performance.now();
  const judge = new CoverageJudge({
    roads,
    vehicles,
    roles: ['sweeper'],
    timeZone: 'Asia/Shanghai',
    workSpeedKmh: DEFAULT_WORK_SPEED_KMH,
    corridorM: 15,
    maxGapMs: 120_000,
    maxGapM: 500,
    stopSpeedKmh: 2,
    maxDwellMs: 15 * 60_000,
    offRouteM: 60,
  });
  const days = new LocalDays('Asia/Shanghai');
  const day = '2026-06-01';
  judge.setTasks(dailyTasks(vehicles, ['sweeper'], roads, days, day));
  const buildMs = performance.now() - t0;
  out({
    bench: 'fleet-judge',
    phase: 'build',
    segments,
    pieces: segments * 2,
    vehicles: vehicleCount,
    buildMs: Math.round(buildMs),
  });

  // Each vehicle's track: its roads one after the other, a fix every 50 m.
  const tracks = vehicles.map((v) => {
    const pts: [number, number][] = [];
    for (const id of v.assignments[0]?.roads ?? []) {
      const road = roads[Number(id.slice(3))] as Road;
      const line = lineString(road.path as [number, number][]);
      const total = length(line, { units: 'meters' });
      for (let m = 0; m < total; m += 50)
        pts.push(along(line, m, { units: 'meters' }).geometry.coordinates as [number, number]);
      pts.push(road.path.at(-1) as [number, number]);
    }
    return pts;
  });
  log(`judging ${fixes} positions of ${vehicleCount} vehicles against ${segments} segments`);
  const start = Date.parse(`${day}T06:00:00+08:00`);
  const per: number[] = [];
  const cursor = new Array<number>(vehicleCount).fill(0);
  const cpu0 = process.cpuUsage();
  const began = performance.now();
  for (let n = 0; n < fixes; n++) {
    const v = n % vehicleCount;
    const track = tracks[v] as [number, number][];
    const k = cursor[v] as number;
    cursor[v] = k + 1;
    const p = track[k % track.length] as [number, number];
    const fix: Fix = {
      ts: start + Math.floor(n / vehicleCount) * 10_000,
      lon: p[0],
      lat: p[1],
      speedKmh: 18,
      gear: true,
    };
    const a = performance.now();
    judge.onFix(`SW-${v}`, fix);
    per.push((performance.now() - a) * 1000);
  }
  const seconds = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const views = judge.taskViews();
  const covered = views.flatMap((t) => t.roads).filter((r) => r.coverage >= 0.9).length;
  out({
    bench: 'fleet-judge',
    phase: 'judge',
    segments,
    vehicles: vehicleCount,
    positions: fixes,
    seconds: Math.round(seconds * 100) / 100,
    positionsPerSecond: Math.round(fixes / seconds),
    // The machine is shared: per CPU second is the figure that does not depend on the neighbours.
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    positionsPerCpuSecond: Math.round(fixes / cpuSeconds),
    p50Us: percentile(per, 50),
    p99Us: percentile(per, 99),
    maxUs: percentile(per, 100),
    assignedSegments: views.reduce((s, t) => s + t.roads.length, 0),
    segmentsCovered90: covered,
    rssMB: Math.round(process.memoryUsage.rss() / 1e6),
  });
  return 0;
}
