/**
 * The page's state and its live feed. Stream messages are only queued as they arrive; one
 * requestAnimationFrame flush per frame applies them (readings coalesced per device: only the
 * newest counts) and tells the views what changed, so 500 messages a second cost one render a
 * frame, never one DOM update per message.
 */
import {
  api,
  type CaseSummary,
  type CatalogueInfo,
  type CityGeometry,
  type Gateway,
  type Reading,
  type User,
} from './api.js';

export interface Changes {
  readings: Map<string, Reading>;
  cases: CaseSummary[];
  gateways: boolean;
}

type Listener = (changes: Changes) => void;

export class Store {
  user: User | undefined;
  city: CityGeometry | undefined;
  catalogue: CatalogueInfo | undefined;
  readonly latest = new Map<string, Reading>();
  /** Open cases (and cases seen closing since load), by id: the map colours assets from them. */
  readonly cases = new Map<string, CaseSummary>();
  gateways: Gateway[] = [];
  streamState: 'connecting' | 'live' | 'reconnecting' = 'connecting';

  private readonly listeners = new Set<Listener>();
  private readonly statusListeners = new Set<() => void>();
  private pendingReadings = new Map<string, Reading>();
  private pendingCases: CaseSummary[] = [];
  private pendingGateways = false;
  private frame = 0;
  private source: EventSource | undefined;
  private gatewayTimer: ReturnType<typeof setTimeout> | undefined;
  /** Stream messages received and frames flushed, for the bench (window.__cg). */
  readonly stats = { messages: 0, flushes: 0 };

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onStatus(fn: () => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  async load(): Promise<void> {
    const [city, catalogue] = await Promise.all([
      api<CityGeometry>('/api/city'),
      api<CatalogueInfo>('/api/catalogue').catch(() => undefined),
    ]);
    this.city = city;
    this.catalogue = catalogue;
    await Promise.all([this.loadOpenCases(), this.refreshGateways()]);
  }

  /** Every open case the session may see, 500 a page. */
  private async loadOpenCases(): Promise<void> {
    const PAGE = 500;
    for (let offset = 0; ; offset += PAGE) {
      const page = await api<{ items: CaseSummary[] }>(`/api/cases?open=true&limit=${PAGE}&offset=${offset}`).catch(
        () => ({ items: [] as CaseSummary[] }),
      );
      for (const c of page.items) this.cases.set(c.id, c);
      if (page.items.length < PAGE) return;
    }
  }

  async refreshGateways(): Promise<void> {
    this.gateways = await api<Gateway[]>('/api/gateways').catch(() => this.gateways);
    this.pendingGateways = true;
    this.schedule();
  }

  connect(): void {
    this.source?.close();
    const es = new EventSource('/api/stream');
    this.source = es;
    es.onopen = () => this.setStatus('live');
    es.onerror = () => this.setStatus('reconnecting');
    es.addEventListener('reading', (e) => {
      this.stats.messages++;
      const r = JSON.parse((e as MessageEvent<string>).data) as Reading;
      const queued = this.pendingReadings.get(r.device);
      if (!queued || queued.ts <= r.ts) this.pendingReadings.set(r.device, r);
      this.schedule();
    });
    es.addEventListener('case', (e) => {
      this.stats.messages++;
      this.pendingCases.push(JSON.parse((e as MessageEvent<string>).data) as CaseSummary);
      this.schedule();
    });
    es.addEventListener('gateway', () => {
      this.stats.messages++;
      // Gateway changes come in bursts (a district's edges reconnecting): one refetch for a burst.
      clearTimeout(this.gatewayTimer);
      this.gatewayTimer = setTimeout(() => void this.refreshGateways(), 250);
    });
  }

  disconnect(): void {
    this.source?.close();
    this.source = undefined;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    clearTimeout(this.gatewayTimer);
  }

  private setStatus(s: Store['streamState']): void {
    this.streamState = s;
    for (const fn of this.statusListeners) fn();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.frame = 0;
    this.stats.flushes++;
    const readings = this.pendingReadings;
    const cases = this.pendingCases;
    const gateways = this.pendingGateways;
    this.pendingReadings = new Map();
    this.pendingCases = [];
    this.pendingGateways = false;
    for (const [device, r] of readings) {
      const known = this.latest.get(device);
      if (!known || known.ts <= r.ts) this.latest.set(device, r);
    }
    for (const c of cases) this.cases.set(c.id, { ...this.cases.get(c.id), ...c });
    const changes: Changes = { readings, cases, gateways };
    for (const fn of this.listeners) {
      try {
        fn(changes);
      } catch (err) {
        // One broken view must not stop the others from rendering.
        reportError(err);
      }
    }
  }

  /** A unit's display name (北山街道), or its id when the city does not list it. */
  unitName(id: string | undefined): string {
    if (!id) return '';
    return this.city?.units?.find((u) => u.id === id)?.name ?? id;
  }

  categoryName(key: string, lang: 'zh' | 'en'): string {
    const c = this.catalogue?.classes.find((x) => x.key === key);
    if (!c) return key;
    return lang === 'en' && c.nameEn ? c.nameEn : c.name;
  }
}

export const store = new Store();
