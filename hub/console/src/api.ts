/** The hub's JSON API from the page: same origin, the session cookie, typed errors. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called on any 401: the session is gone (expired, logged out elsewhere). */
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: init.body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const body = (json ?? {}) as { error?: string; message?: string };
    if (res.status === 401 && path !== '/api/login' && path !== '/api/me') onUnauthenticated();
    throw new ApiError(res.status, body.error ?? 'http', body.message ?? body.error ?? `HTTP ${res.status}`);
  }
  return json as T;
}

export interface User {
  id: string;
  name?: string;
  role: 'city_supervisor' | 'district_commander' | 'unit_handler';
  district?: string;
  unit?: string;
}

export type LonLat = [number, number];

export interface CityGeometry {
  city: { id: string; name: string; timezone: string };
  districts: { id: string; name: string; boundary: LonLat[] }[];
  gridCells: { id: string; name?: string; district?: string; boundary: LonLat[] }[];
  assets: { id: string; name: string; kind: string; district: string; location?: LonLat }[];
  routes: { id: string; name?: string; path: LonLat[] }[];
  roads?: { id: string; name?: string; path: LonLat[] }[];
  /** Responsible units: names for unit ids, the dispatch choice. */
  units?: { id: string; name: string; type: string }[];
}

export interface Reading {
  device: string;
  kind: string;
  ts: number;
  fields: Record<string, number | string | boolean>;
  district?: string;
  gateway?: string;
  asset?: string;
  receivedAt?: number;
}

export interface Gateway {
  id: string;
  district: string;
  name?: string;
  online: boolean;
  lastSeen?: number;
  watermark?: number;
  gaps?: number;
  devicesOffline?: number;
  /** The gateway's last `.../health` report. */
  health?: {
    ts: number;
    receivedAt: number;
    outbox: { items: number; backlog: number; bytes: number; oldestUnackedAgeMs: number };
    devices?: number;
    devicesOnline?: number;
  };
  devices?: { id: string; kind?: string; asset?: string; online?: boolean }[];
  [key: string]: unknown;
}

export interface Deadline {
  startedAt: number;
  dueAt?: number;
  doneAt?: number;
}

export interface CaseSummary {
  id: string;
  category: string;
  source: string;
  urgency: string;
  state: string;
  title?: string;
  asset?: string;
  district?: string;
  unit?: string;
  point?: LonLat;
  reportedAt: number;
  deadlines: Partial<Record<'dispatch' | 'handle' | 'verify', Deadline>>;
  overdue?: boolean;
  extension?: { ms: number; requestedAt: number; by: string };
  effect?: string;
}

export interface HistoryEntry {
  seq: number;
  at: number;
  action: string;
  from: string;
  to: string;
  actor: { id: string; role: string };
  note?: string;
  data?: Record<string, unknown>;
}

export interface CaseDetail extends CaseSummary {
  history: HistoryEntry[];
  signals: { at?: number; ts?: number; device?: string; field?: string; value?: number; [k: string]: unknown }[];
  signalCount: number;
  evidence: string[];
}

export interface EvidenceRecord {
  id: string;
  mediaType: string;
  ts: number;
  device?: string;
  asset?: string;
  thumbnailId?: string;
}

export interface CatalogueInfo {
  classes: { key: string; kind: string; code: string; name: string; nameEn?: string; defaultUrgency: string }[];
  /** Which roles may take an action from which states (the workflow's guards). */
  workflow: Record<string, { from: string[] | 'open'; roles: string[] }>;
  terminalStates: string[];
}
