/**
 * The drill report: what the drill saw, reduced to what an emergency office asks afterwards
 * (incident, cases with urgency and deadlines, threshold-crossing -> case latency, closures,
 * sample intervals at the edges, readings lost). Pure: the runner gathers the observations.
 */

export interface IntervalChange {
  /** Seconds since the drill started (real time) of the first reading at the new interval. */
  atS: number;
  fromS: number;
  toS: number;
}

export interface DeviceIntervals {
  device: string;
  kind: string;
  changes: IntervalChange[];
}

export interface CaseLine {
  id: string;
  category: string;
  source: string;
  asset?: string;
  district?: string;
  urgency: string;
  state: string;
  incident?: string;
  reportedAtS: number;
  /** Deadline of the first stage, seconds after the case was reported (undefined: none). */
  dispatchDueS?: number;
  handleDueS?: number;
  /** Threshold crossing (first reading past the level in force) -> the case's `opened` on the live stream, ms. */
  crossingToCaseMs?: number;
  /**
   * The reading that raised the case (its timestamp) -> the case's `opened` on the live stream, ms:
   * the system's own part (edge batch, uplink, ingest, store, rules, stream), without the rule's
   * minimum duration over the level.
   */
  readingToCaseMs?: number;
}

export interface ClosureLine {
  asset: string;
  action: string;
  atS: number;
  depthCm?: number;
}

export interface IncidentLine {
  id: string;
  type: string;
  level?: string;
  state: string;
  /** How it opened: the trigger rule that proposed it, or "operator". */
  openedBy: string;
  proposedAtS?: number;
  openedAtS?: number;
  closedAtS?: number;
  history: { action: string; atS: number; by?: string; reason?: string; level?: string }[];
}

export interface Latency {
  n: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
}

export interface DrillReport {
  drill: 'flood' | 'snow';
  seed: number;
  speedup: number;
  simMinutes: number;
  realSeconds: number;
  districts: number;
  gateways: number;
  devices: number;
  normalIntervalS: number;
  timeline: { atMin: number; atS: number; label: string }[];
  incidents: { available: boolean; note?: string; items: IncidentLine[] };
  /** What the drill's duty officer did through the API (confirm, dismiss, close incidents; file cases) and the answer. */
  operator: { atS: number; action: string; target: string; status: number }[];
  cases: CaseLine[];
  latency: Latency;
  /** The same without the districts of the gateway whose uplink was cut (their cases wait for the link). */
  latencyUplinkUp: Latency;
  readingToCase: Latency;
  closures: { available: boolean; items: ClosureLine[] };
  sampleIntervals: DeviceIntervals[];
  uplink?: { gateway: string; cutAtS?: number; restoredAtS?: number };
  readings: {
    producedAtEdges: number;
    storedAtHub: number;
    duplicateMessagesDropped: number;
    lost: number;
    edgeBacklogAtEnd: number;
  };
  readingsPerSecond: number;
  hub: { cpuPercentAvg: number; cpuPercentPeak: number; rssMbPeak: number };
}

/** Nearest-rank percentile of `values` (p in 0..100); undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * Sample-interval changes from one device's reading times (ms, any order): the interval between
 * consecutive readings, smoothed over `window` gaps (median), reported where it moves by more than
 * `ratio` from the one in force. A gap of an uplink cut does not show (readings keep their
 * timestamps from the device poll, not from their arrival).
 */
export function intervalChanges(
  tsMs: readonly number[],
  startMs: number,
  o: { window?: number; ratio?: number } = {},
): IntervalChange[] {
  const window = o.window ?? 3;
  const ratio = o.ratio ?? 1.6;
  const ts = [...new Set(tsMs)].sort((a, b) => a - b);
  const gaps = ts.slice(1).map((t, i) => t - (ts[i] as number));
  if (gaps.length < window) return [];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  let current = median(gaps.slice(0, window));
  const out: IntervalChange[] = [];
  for (let i = window; i + window <= gaps.length; i++) {
    const m = median(gaps.slice(i, i + window));
    if (m > current * ratio || m < current / ratio) {
      // the change starts at the first gap closer to the new interval than to the old one
      let j = i;
      const closerToOld = (g: number) => Math.abs(Math.log(g / current)) < Math.abs(Math.log(g / m));
      while (j < i + window - 1 && closerToOld(gaps[j] as number)) j++;
      // its value: the median of the gaps that follow (past the first, which may straddle the switch)
      const after = gaps.slice(j + 1, j + 1 + 4 * window);
      const next = after.length >= window ? median(after) : m;
      out.push({
        atS: round1(((ts[j] as number) - startMs) / 1000),
        fromS: round1(current / 1000),
        toS: round1(next / 1000),
      });
      current = next;
      i = j + window - 1;
    }
  }
  return out;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const fmtS = (s: number | undefined) => (s === undefined ? '-' : `${s.toFixed(1)} s`);
const fmtDue = (s: number | undefined) =>
  s === undefined ? 'none' : s < 3600 ? `+${Math.round(s / 60)} min` : `+${(s / 3600).toFixed(1)} h`;

/** The report as text for a terminal. */
export function formatReport(r: DrillReport): string {
  const lines: string[] = [];
  lines.push(
    `citygrid ${r.drill} drill (seed ${r.seed}): ${r.simMinutes} sim min in ${r.realSeconds.toFixed(0)} s (×${r.speedup.toFixed(0)}), ${r.districts} districts, ${r.gateways} gateways, ${r.devices} loggers sampled every ${r.normalIntervalS} s`,
  );
  lines.push('', 'timeline');
  for (const t of r.timeline) lines.push(`  ${fmtS(t.atS).padStart(8)}  (sim +${t.atMin} min)  ${t.label}`);
  lines.push('', 'incidents');
  if (!r.incidents.available) lines.push(`  ${r.incidents.note ?? 'the hub has no incidents API'}`);
  else if (r.incidents.items.length === 0) lines.push('  none opened');
  for (const i of r.incidents.items) {
    lines.push(
      `  ${i.id} ${i.type}${i.level ? ` level ${i.level}` : ''} ${i.state}: opened by ${i.openedBy}, proposed ${fmtS(i.proposedAtS)}, open ${fmtS(i.openedAtS)}, closed ${fmtS(i.closedAtS)}`,
    );
    for (const h of i.history)
      lines.push(
        `      ${fmtS(h.atS).padStart(8)} ${h.action}${h.level ? ` ${h.level}` : ''} by ${h.by ?? '?'}: ${h.reason ?? ''}`,
      );
  }
  lines.push('', 'operator');
  for (const a of r.operator) lines.push(`  ${fmtS(a.atS).padStart(8)} ${a.action} ${a.target}: HTTP ${a.status}`);
  lines.push('', `cases (${r.cases.length})`);
  for (const c of r.cases)
    lines.push(
      `  ${c.id} ${c.category} ${c.asset ?? '-'} ${c.source} ${c.urgency} ${c.state}${c.incident ? ` incident ${c.incident}` : ''} at ${fmtS(c.reportedAtS)}; dispatch ${fmtDue(c.dispatchDueS)}, handle ${fmtDue(c.handleDueS)}${c.crossingToCaseMs !== undefined ? `; crossing -> case ${c.crossingToCaseMs} ms` : ''}`,
    );
  const lat = (l: Latency) => `n=${l.n} p50 ${l.p50Ms ?? '-'} ms, p99 ${l.p99Ms ?? '-'} ms, max ${l.maxMs ?? '-'} ms`;
  lines.push(`  threshold crossing -> case: ${lat(r.latency)}`);
  lines.push(`    without the cut gateway's district: ${lat(r.latencyUplinkUp)}`);
  lines.push(`  reading that raised it -> case: ${lat(r.readingToCase)}`);
  lines.push('', 'road closures');
  if (!r.closures.available) lines.push('  no closure recommendations on the stream (the hub raises none)');
  for (const c of r.closures.items)
    lines.push(
      `  ${fmtS(c.atS).padStart(8)} ${c.asset} ${c.action}${c.depthCm !== undefined ? ` at ${c.depthCm.toFixed(1)} cm` : ''}`,
    );
  lines.push('', 'sample intervals at the edges');
  const changed = r.sampleIntervals.filter((d) => d.changes.length > 0);
  if (changed.length === 0) lines.push('  unchanged on every device');
  for (const d of changed)
    lines.push(
      `  ${d.device.padEnd(12)} ${d.kind.padEnd(12)} ${d.changes.map((c) => `${fmtS(c.atS)}: ${c.fromS} s -> ${c.toS} s`).join(', ')}`,
    );
  if (r.uplink)
    lines.push(
      '',
      `uplink: ${r.uplink.gateway} cut at ${fmtS(r.uplink.cutAtS)}, restored at ${fmtS(r.uplink.restoredAtS)}`,
    );
  const rd = r.readings;
  lines.push(
    '',
    `readings: ${rd.producedAtEdges} taken at the edges, ${rd.storedAtHub} stored by the hub (${rd.duplicateMessagesDropped} duplicate messages dropped), ${rd.edgeBacklogAtEnd} still in edge outboxes: lost ${rd.lost}`,
    `throughput ${r.readingsPerSecond.toFixed(1)} readings/s; hub CPU avg ${r.hub.cpuPercentAvg.toFixed(1)} % peak ${r.hub.cpuPercentPeak.toFixed(1)} %, RSS peak ${r.hub.rssMbPeak.toFixed(0)} MB`,
  );
  return lines.join('\n');
}
