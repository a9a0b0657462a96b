/**
 * A uPlot time chart of one numeric series with horizontal limit lines (rule levels), and the
 * tolerant readers of /api/telemetry and /api/rules answers. uPlot draws on canvas: thousands of
 * points and a redraw per frame stay cheap.
 */
import uPlot from 'uplot';

export interface Limit {
  value: number;
  label: string;
  /** The limit of the profile in force (drawn solid; others dashed). */
  active?: boolean;
}

export interface TimeChart {
  el: HTMLElement;
  setData(ts: number[], values: number[]): void;
  push(ts: number, value: number): void;
  setLimits(limits: Limit[]): void;
  destroy(): void;
}

export function timeChart(opts: { label: string; width?: number; height?: number; maxPoints?: number }): TimeChart {
  const el = document.createElement('div');
  el.className = 'chart';
  let xs: number[] = [];
  let ys: number[] = [];
  let limits: Limit[] = [];
  const maxPoints = opts.maxPoints ?? 5000;
  const plot = new uPlot(
    {
      width: opts.width ?? 720,
      height: opts.height ?? 260,
      scales: {
        x: { time: true },
        y: {
          range: (_u, min, max) => {
            const lo = Math.min(min ?? 0, ...limits.map((l) => l.value));
            const hi = Math.max(max ?? 1, ...limits.map((l) => l.value));
            const pad = (hi - lo) * 0.08 || 1;
            return [lo - pad, hi + pad];
          },
        },
      },
      axes: [
        { stroke: '#8aa0b5', grid: { stroke: '#223142' } },
        { stroke: '#8aa0b5', grid: { stroke: '#223142' } },
      ],
      series: [{}, { label: opts.label, stroke: '#4ea1ff', width: 1.5, spanGaps: false }],
      legend: { show: true },
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            for (const l of limits) {
              const y = u.valToPos(l.value, 'y', true);
              ctx.strokeStyle = l.active ? '#f0616d' : '#f5c542';
              ctx.setLineDash(l.active ? [] : [6, 4]);
              ctx.lineWidth = 1.2 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.fillStyle = ctx.strokeStyle;
              ctx.font = `${11 * devicePixelRatio}px sans-serif`;
              ctx.fillText(`${l.label} ${l.value}`, u.bbox.left + 4, y - 4);
            }
            ctx.restore();
          },
        ],
      },
    },
    [[], []],
    el,
  );
  const redraw = () => {
    plot.setData([xs.map((x) => x / 1000), ys]);
    // What is drawn, for tests and the curious (a canvas cannot be read back).
    el.dataset.points = String(xs.length);
  };
  return {
    el,
    setData(ts, values) {
      xs = ts.slice(-maxPoints);
      ys = values.slice(-maxPoints);
      redraw();
    },
    push(ts, value) {
      if (xs.length > 0 && ts <= (xs.at(-1) as number)) return;
      xs.push(ts);
      ys.push(value);
      if (xs.length > maxPoints) {
        xs = xs.slice(-maxPoints);
        ys = ys.slice(-maxPoints);
      }
      redraw();
    },
    setLimits(next) {
      limits = next;
      el.dataset.limits = next.map((l) => l.value).join(',');
      plot.redraw(true, false);
    },
    destroy() {
      plot.destroy();
    },
  };
}

/** [ts ms, value] pairs from whichever shape /api/telemetry answers with. */
export function telemetryPoints(body: unknown, field: string): [number, number][] {
  const out: [number, number][] = [];
  const tsOf = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN);
  const take = (p: unknown) => {
    if (Array.isArray(p) && p.length >= 2) {
      const ts = tsOf(p[0]);
      const v = Number(p[1]);
      if (Number.isFinite(ts) && Number.isFinite(v)) out.push([ts, v]);
      return;
    }
    if (p && typeof p === 'object') {
      const o = p as Record<string, unknown>;
      const ts = tsOf(o.ts ?? o.time ?? o.t);
      const fields = o.fields as Record<string, unknown> | undefined;
      const raw = o.value ?? o.v ?? o[field] ?? o.mean ?? fields?.[field];
      const v = Number(raw);
      if (Number.isFinite(ts) && raw !== null && raw !== undefined && Number.isFinite(v)) out.push([ts, v]);
    }
  };
  const walk = (b: unknown) => {
    if (Array.isArray(b)) for (const p of b) take(p);
    else if (b && typeof b === 'object') {
      const o = b as Record<string, unknown>;
      if (Array.isArray(o.points)) walk(o.points);
      else if (Array.isArray(o.series)) {
        const s = (o.series as Record<string, unknown>[]).find((x) => x.field === field) ?? o.series[0];
        walk(s);
      } else if (Array.isArray(o.ts) && Array.isArray(o.values))
        (o.ts as unknown[]).forEach((ts, i) => {
          take([ts, (o.values as unknown[])[i]]);
        });
      else if (Array.isArray(o.items)) walk(o.items);
    }
  };
  walk(body);
  return out.sort((a, b) => a[0] - b[0]);
}

/**
 * The limits on `field` from /api/rules: every `{ at: number }` level (and `value`/`limit`
 * numbers) under a rule whose `field` is this one; `inForce` / `active` / `profile` mark the
 * profile in force when the answer says which.
 */
export function ruleLimits(body: unknown, field: string): Limit[] {
  const limits: Limit[] = [];
  const rules = Array.isArray(body)
    ? body
    : ((body as { rules?: unknown[]; items?: unknown[] })?.rules ?? (body as { items?: unknown[] })?.items ?? []);
  for (const r of rules as Record<string, unknown>[]) {
    if (!r || r.field !== field) continue;
    const inForce = (r.inForce ?? r.profile ?? r.activeProfile) as string | undefined;
    const levels = (r.levels ?? r.limits) as Record<string, unknown> | unknown[] | undefined;
    const addLevel = (lv: unknown, profile: string | undefined) => {
      if (!lv || typeof lv !== 'object') return;
      const o = lv as Record<string, unknown>;
      const v = Number(o.at ?? o.value ?? o.limit);
      if (!Number.isFinite(v)) return;
      const label = [profile, o.urgency ?? o.label].filter(Boolean).join(' ');
      limits.push({ value: v, label, active: profile === undefined || inForce === undefined || profile === inForce });
    };
    if (Array.isArray(levels)) for (const lv of levels) addLevel(lv, undefined);
    else if (levels)
      for (const [profile, list] of Object.entries(levels))
        for (const lv of Array.isArray(list) ? list : [list]) addLevel(lv, profile);
  }
  const seen = new Set<string>();
  return limits.filter((l) => {
    const key = `${l.value}|${l.label}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
