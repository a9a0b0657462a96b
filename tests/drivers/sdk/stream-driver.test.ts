import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FrameCodec } from '../../../drivers/sdk/driver.js';
import { DecodeError, StartupError } from '../../../drivers/sdk/errors.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { createStreamDriver, DEFAULT_REOPEN_DELAY_MS, reopenDelayOf } from '../../../drivers/sdk/stream-driver.js';
import { createMemoryTransport } from '../../helpers/memory-transport.js';

/** Lines of text; "!" is refused with a DecodeError, "boom" makes the codec throw a plain Error (a codec bug). */
const lineCodec: FrameCodec<string> = {
  id: 'lines',
  split(buf) {
    const text = buf.toString('latin1');
    const cut = text.lastIndexOf('\n');
    if (cut === -1) return { frames: [], rest: buf, discarded: 0 };
    const frames = text
      .slice(0, cut)
      .split('\n')
      .map((l) => Buffer.from(l, 'latin1'));
    return { frames, rest: Buffer.from(text.slice(cut + 1), 'latin1'), discarded: 0 };
  },
  decode(frame) {
    const s = frame.toString('latin1');
    if (s === '!') throw new DecodeError('bad-frame', 'bang', frame);
    if (s === 'boom') throw new Error('codec bug');
    return s;
  },
};

afterEach(() => {
  vi.useRealTimers();
});

function harness(onFrame: (f: string) => void = () => undefined) {
  const transport = createMemoryTransport({ reopenDelayMs: 100 });
  const errors: string[] = [];
  const stream = createStreamDriver({
    transport,
    codec: lineCodec,
    log: silentLogger(),
    onFrame,
    onDecodeError: (e) => errors.push(e.reason),
  });
  return { transport, errors, stream };
}

describe('stream driver', () => {
  it('reassembles frames across chunks', async () => {
    const frames: string[] = [];
    const { transport, stream } = harness((f) => frames.push(f));
    await stream.start();
    transport.push('ab');
    transport.push('c\nde');
    transport.push('f\n');
    expect(frames).toEqual(['abc', 'def']);
  });

  it('routes refused frames and codec bugs to onDecodeError and keeps going', async () => {
    const frames: string[] = [];
    const { transport, errors, stream } = harness((f) => frames.push(f));
    await stream.start();
    expect(() => transport.push('!\nboom\nok\n')).not.toThrow();
    expect(errors).toEqual(['bad-frame', 'bad-frame']);
    expect(frames).toEqual(['ok']);
  });

  it('does not let an exception of the frame handler escape the transport', async () => {
    const seen: string[] = [];
    const { transport, stream } = harness((f) => {
      seen.push(f);
      throw new Error('handler bug');
    });
    await stream.start();
    expect(() => transport.push('a\nb\n')).not.toThrow();
    expect(seen).toEqual(['a', 'b']);
  });

  it('wraps an open failure in a retryable StartupError', async () => {
    const { transport, stream } = harness();
    transport.failOpenWith = new Error('ENOENT');
    await expect(stream.start()).rejects.toBeInstanceOf(StartupError);
  });

  it('reopens after the transport closes, retrying until it opens, and drops a half frame', async () => {
    vi.useFakeTimers();
    const frames: string[] = [];
    const { transport, stream } = harness((f) => frames.push(f));
    await stream.start();
    transport.push('half');
    transport.failOpenWith = new Error('still gone');
    transport.drop(new Error('unplugged'));
    await vi.advanceTimersByTimeAsync(350);
    expect(transport.opens).toBe(1);
    transport.failOpenWith = undefined;
    await vi.advanceTimersByTimeAsync(100);
    expect(transport.opens).toBe(2);
    transport.push('x\n');
    expect(frames).toEqual(['x']);
    await stream.stop();
  });

  it('stop cancels a pending reopen and delivers nothing afterwards', async () => {
    vi.useFakeTimers();
    const frames: string[] = [];
    const { transport, stream } = harness((f) => frames.push(f));
    await stream.start();
    transport.drop();
    await stream.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(transport.opens).toBe(1);
    expect(transport.isOpen).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await stream.stop();
  });

  it('takes the reopen delay from the transport, else the default', () => {
    expect(reopenDelayOf(createMemoryTransport({ reopenDelayMs: 700 }))).toBe(700);
    const { reopenDelayMs: _ignored, ...plain } = createMemoryTransport();
    expect(reopenDelayOf(plain as never)).toBe(DEFAULT_REOPEN_DELAY_MS);
  });
});
