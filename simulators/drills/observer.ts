/**
 * What the drill sees of the hub, through its public API only: the live stream (readings with
 * their device timestamps, cases, incidents, closures, profile switches) and the JSON routes, with
 * the operator's session cookie when the hub asks for one. Records; the runner and the report
 * decide what it means.
 */
import { readSse } from '../common/sse-reader.js';

export interface SeenReading {
  device: string;
  kind: string;
  ts: number;
  fields: Record<string, unknown>;
}

export interface StreamEvent {
  event: string;
  at: number;
  data: Record<string, unknown>;
}

export class HubObserver {
  readonly readings = new Map<string, SeenReading[]>();
  readonly events: StreamEvent[] = [];
  cookie: string | undefined;
  private abort: AbortController | undefined;
  private done: Promise<void> | undefined;

  constructor(
    readonly url: string,
    /** Reading kinds whose readings are kept (all their fields). */
    private readonly kinds: ReadonlySet<string>,
  ) {}

  /** Logs in as the operator; false when the hub has no login (no console users configured). */
  async login(username: string, password: string): Promise<boolean> {
    const res = await fetch(`${this.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    await res.text();
    if (res.status === 404) return false;
    if (res.status !== 200) throw new Error(`login as ${username}: HTTP ${res.status}`);
    const set = res.headers.get('set-cookie') ?? '';
    this.cookie = /^([^;]+)/.exec(set)?.[1];
    return true;
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookie) headers.cookie = this.cookie;
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (a 404 page): keep the text
    }
    return { status: res.status, body: parsed as T };
  }

  /** Follows /api/stream until stop(). Resolves once connected. */
  async follow(): Promise<void> {
    this.abort = new AbortController();
    const res = await fetch(`${this.url}/api/stream`, {
      signal: this.abort.signal,
      headers: this.cookie ? { cookie: this.cookie } : {},
    });
    if (res.status !== 200 || !res.body) throw new Error(`/api/stream: HTTP ${res.status}`);
    this.done = readSse(res.body, (event, data) => this.onEvent(event, data));
  }

  private onEvent(event: string, parsed: Record<string, unknown>): void {
    if (event === 'reading') {
      const kind = String(parsed.kind);
      if (!this.kinds.has(kind)) return;
      const device = String(parsed.device);
      const list = this.readings.get(device) ?? [];
      if (list.length === 0) this.readings.set(device, list);
      list.push({ device, kind, ts: Number(parsed.ts), fields: (parsed.fields ?? {}) as Record<string, unknown> });
      return;
    }
    this.events.push({ event, at: Date.now(), data: parsed });
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.done;
  }
}

/** Sum of a metric family in Prometheus text (all label sets), 0 when absent. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}
