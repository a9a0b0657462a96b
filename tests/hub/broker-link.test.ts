import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { topicMatcher, topicMatches } from '../../hub/src/broker/link.js';
import { turnCorker } from '../../hub/src/broker/turn-cork.js';

describe('topicMatcher', () => {
  const filters = [
    'cg/v1/+/+/telemetry',
    'cg/v1/#',
    '#',
    '+',
    'a/+',
    'a/#',
    'a/b',
    '+/+',
    'cg/v1/+/+/+',
    'a//b',
    '+/#',
  ];
  const topics = [
    'cg/v1/xh/gw/telemetry',
    'cg/v1/xh/gw/event',
    'cg/v1/xh/gw/telemetry/x',
    'cg/v1/xh/gw',
    'cg/v2/xh/gw/telemetry',
    'cg/v1',
    'a',
    'ab',
    'a/b',
    'a/bc',
    'a/b/c',
    'a/',
    'a//b',
    '/',
    '',
    'b',
  ];
  it.each(filters)('decides like topicMatches for filter %s', (filter) => {
    const matches = topicMatcher(filter);
    for (const topic of topics) expect([topic, matches(topic)]).toEqual([topic, topicMatches(filter, topic)]);
  });

  it('matches the telemetry filter only on the channel level', () => {
    const matches = topicMatcher('cg/v1/+/+/telemetry');
    expect(matches('cg/v1/xihu/gw-xh-01/telemetry')).toBe(true);
    expect(matches('cg/v1/xihu/gw-xh-01/telemetryx')).toBe(false);
    expect(matches('cg/v1/xihu/gw-xh-01/state')).toBe(false);
  });
});

/** A writable that records how many writes reach the "socket" and how many chunks each carries. */
function recordingStream(): { stream: Writable; writes: number[] } {
  const writes: number[] = [];
  const stream = new Writable({
    write(_chunk, _enc, cb) {
      writes.push(1);
      cb();
    },
    writev(chunks, cb) {
      writes.push(chunks.length);
      cb();
    },
  });
  return { stream, writes };
}

/** Writes like mqtt-packet does: cork, write, uncork on the next tick; the next packet on a later tick. */
async function writeLikeMqttJs(stream: Writable, packets: number): Promise<void> {
  for (let i = 0; i < packets; i++) {
    stream.cork();
    stream.write(Buffer.from([0x40, 2, 0, i & 0xff]));
    process.nextTick(() => stream.uncork());
    await new Promise<void>((resolve) => process.nextTick(resolve));
  }
}

describe('turnCorker', () => {
  it('sends the PUBACKs written during one turn in one write', async () => {
    const { stream, writes } = recordingStream();
    const corkThisTurn = turnCorker();
    corkThisTurn(stream);
    await writeLikeMqttJs(stream, 100);
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([100]);
  });

  it('corks again in the next turn, and only once per turn', async () => {
    const { stream, writes } = recordingStream();
    const corkThisTurn = turnCorker();
    for (let turn = 0; turn < 3; turn++) {
      for (let i = 0; i < 5; i++) corkThisTurn(stream);
      await writeLikeMqttJs(stream, 10);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(writes).toEqual([10, 10, 10]);
    expect(stream.writableCorked).toBe(0);
  });

  it('without it, MQTT.js-style writes go out one by one', async () => {
    const { stream, writes } = recordingStream();
    await writeLikeMqttJs(stream, 5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([1, 1, 1, 1, 1]);
  });

  it('ignores a stream that cannot cork', () => {
    const corkThisTurn = turnCorker();
    expect(() => corkThisTurn(undefined)).not.toThrow();
    expect(() => corkThisTurn({})).not.toThrow();
  });
});
