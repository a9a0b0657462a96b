/**
 * Reads a Server-Sent Events body (the hub's `/api/stream`) block by block and hands each
 * `event:` / `data:` pair to `onEvent`, data parsed as JSON. Resolves when the stream ends or is
 * aborted. Used by the drills' observer and by the tests that follow the stream.
 */
export async function readSse(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: string, data: Record<string, unknown>) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
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
        if (event && data) onEvent(event, JSON.parse(data) as Record<string, unknown>);
        end = buf.indexOf('\n\n');
      }
    }
  } catch {
    // aborted by the reader's owner, or the hub went away
  }
}
