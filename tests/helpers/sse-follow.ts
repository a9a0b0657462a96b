import { readSse } from '../../simulators/common/sse-reader.js';

/** Follows a hub's `/api/stream` (Server-Sent Events) in a test: every event parsed, until stopped. */
export interface StreamEvent {
  event: string;
  data: Record<string, unknown>;
  /** Test clock when it arrived, ms. */
  at: number;
}

export interface FollowedStream {
  readonly events: StreamEvent[];
  stop(): void;
}

/** Starts reading `url` (e.g. `${hub}/api/stream`); resolves once the stream answered. */
export async function followStream(url: string, init: RequestInit = {}): Promise<FollowedStream> {
  const abort = new AbortController();
  const res = await fetch(url, { ...init, signal: abort.signal });
  if (!res.ok || !res.body) throw new Error(`${url} answered ${res.status}`);
  const events: StreamEvent[] = [];
  void readSse(res.body, (event, data) => events.push({ event, data, at: Date.now() }));
  return { events, stop: () => abort.abort() };
}
