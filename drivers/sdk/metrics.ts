/**
 * A small Prometheus text-format registry. Counters and gauges with labels; no global default
 * registry (each process root builds one and passes it down).
 */
type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}

abstract class Metric {
  protected readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
  ) {}
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0 && this.type === 'counter') lines.push(`${this.name} 0`);
    for (const [key, value] of this.values) lines.push(key ? `${this.name}{${key}} ${value}` : `${this.name} ${value}`);
    return lines.join('\n');
  }
}

export class Counter extends Metric {
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
}

export class Gauge extends Metric {
  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), value);
  }
  /** A gauge read at render time (queue depths, RSS). */
  collect?: () => void;
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help, 'counter')) as Counter;
  }

  gauge(name: string, help: string, collect?: (g: Gauge) => void): Gauge {
    const g = this.register(name, () => new Gauge(name, help, 'gauge')) as Gauge;
    if (collect) g.collect = () => collect(g);
    return g;
  }

  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      if (m instanceof Gauge) m.collect?.();
      out.push(m.render());
    }
    return `${out.join('\n')}\n`;
  }

  private register(name: string, make: () => Metric): Metric {
    const existing = this.metrics.get(name);
    if (existing) return existing;
    const m = make();
    this.metrics.set(name, m);
    return m;
  }
}
