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
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const events: StreamEvent[] = [];
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let end = buf.indexOf('\n\n');
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data), at: Date.now() });
          end = buf.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by stop()
    }
  })();
  return { events, stop: () => abort.abort() };
}
