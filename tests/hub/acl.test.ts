import { describe, expect, it } from 'vitest';
import { decideOrphanWill, decidePublish, decideSubscribe, type Principal } from '../../hub/src/broker/acl.js';

const gw: Principal = { role: 'gateway', id: 'gw-xh-01', district: 'xihu' };
const reader: Principal = { role: 'reader', id: 'integrator' };

describe('decidePublish', () => {
  it.each(['state', 'telemetry', 'event', 'media', 'cmd-result'])(
    'lets a gateway publish %s under its own prefix',
    (channel) => {
      expect(decidePublish(gw, `cg/v1/xihu/gw-xh-01/${channel}`)).toEqual({ allowed: true });
    },
  );

  it.each([
    ['cg/v1/xihu/gw-xh-02/telemetry', 'foreign-prefix'],
    ['cg/v1/gongshu/gw-xh-01/telemetry', 'foreign-prefix'],
    ['cg/v1/xihu/gw-xh-01/cmd/ack', 'not-uplink'],
    ['cg/v1/xihu/gw-xh-01/telemetry/extra', 'not-uplink'],
    ['cg/v1/xihu/gw-xh-01/other', 'not-uplink'],
    ['$SYS/broker/x', 'sys-topic'],
    ['elsewhere/topic', 'foreign-prefix'],
  ])('refuses a gateway publishing %s (%s)', (topic, reason) => {
    expect(decidePublish(gw, topic)).toEqual({ allowed: false, reason });
  });

  it('refuses every publish of a reader', () => {
    expect(decidePublish(reader, 'cg/v1/xihu/gw-xh-01/telemetry')).toEqual({
      allowed: false,
      reason: 'reader-publish',
    });
  });
});

describe('decideSubscribe', () => {
  it('lets a gateway subscribe to its own commands only', () => {
    expect(decideSubscribe(gw, 'cg/v1/xihu/gw-xh-01/cmd/#').allowed).toBe(true);
    expect(decideSubscribe(gw, 'cg/v1/xihu/gw-xh-01/cmd/ack').allowed).toBe(true);
    expect(decideSubscribe(gw, 'cg/v1/xihu/gw-xh-02/cmd/#')).toEqual({ allowed: false, reason: 'not-own-cmd' });
    expect(decideSubscribe(gw, 'cg/v1/xihu/+/cmd/#')).toEqual({ allowed: false, reason: 'not-own-cmd' });
    expect(decideSubscribe(gw, 'cg/v1/#')).toEqual({ allowed: false, reason: 'not-own-cmd' });
    expect(decideSubscribe(gw, '#')).toEqual({ allowed: false, reason: 'not-own-cmd' });
  });

  it('lets a reader subscribe under cg/v1/ and nowhere else', () => {
    expect(decideSubscribe(reader, 'cg/v1/#').allowed).toBe(true);
    expect(decideSubscribe(reader, 'cg/v1/+/+/telemetry').allowed).toBe(true);
    expect(decideSubscribe(reader, '#')).toEqual({ allowed: false, reason: 'outside-root' });
    expect(decideSubscribe(reader, '$SYS/#')).toEqual({ allowed: false, reason: 'sys-topic' });
  });
});

describe('decideOrphanWill', () => {
  it('passes a state will and nothing else', () => {
    expect(decideOrphanWill('cg/v1/xihu/gw-xh-01/state').allowed).toBe(true);
    expect(decideOrphanWill('cg/v1/xihu/gw-xh-01/telemetry').allowed).toBe(false);
  });
});
