import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookConfig } from '../../../config/schema/hub.js';
import type { CaseRecord } from '../../../hub/src/cases/model.js';
import type { CaseChange } from '../../../hub/src/cases/service.js';
import { type CaseStore, openCaseStore } from '../../../hub/src/cases/store.js';
import {
  BACKOFF_BASE_MS,
  BACKOFF_MAX_MS,
  backoffMs,
  eventOf,
  notificationsFor,
  sign,
} from '../../../hub/src/cases/webhooks.js';
import { tempCaseStores } from './fixtures.js';

const { tmpDir, open } = tempCaseStores('cg-webhooks-');

const change = (effect: string, state: CaseRecord['state'], id = 'CG-1'): CaseChange => ({
  effect,
  case: { id, state, category: 'event:0406', history: [{ seq: 1 }] } as unknown as CaseRecord,
});
const target = (events: WebhookConfig['events']): WebhookConfig => ({
  url: 'http://127.0.0.1:1/hook',
  secret: 's3cret',
  events,
});

describe('webhook signature', () => {
  it('is sha256=<hex> of the HMAC-SHA256 of the raw body (the published test vector)', () => {
    expect(sign('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('changes with the body and the secret', () => {
    const body = JSON.stringify({ id: 'x', event: 'dispatched' });
    expect(sign('a', body)).not.toBe(sign('b', body));
    expect(sign('a', body)).not.toBe(sign('a', `${body} `));
    expect(sign('a', body)).toBe(`sha256=${createHmac('sha256', 'a').update(body).digest('hex')}`);
  });
});

describe('webhook backoff', () => {
  it('doubles from the base per failed attempt and stops at the cap', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n))).toEqual([1, 2, 4, 8].map((k) => k * BACKOFF_BASE_MS));
    expect(backoffMs(9)).toBe(256 * BACKOFF_BASE_MS);
    expect(backoffMs(10)).toBe(BACKOFF_MAX_MS);
    expect(backoffMs(10_000)).toBe(BACKOFF_MAX_MS);
    expect(backoffMs(3, 50, 120)).toBe(120);
  });
});

describe('webhook events', () => {
  it('maps dispatch, overdue and an ending action; nothing else', () => {
    expect(eventOf(change('dispatch', 'dispatched'))).toBe('dispatched');
    expect(eventOf(change('mark_overdue', 'processing'))).toBe('overdue');
    expect(eventOf(change('pass', 'closed'))).toBe('closed');
    expect(eventOf(change('reject', 'not_filed'))).toBe('closed');
    expect(eventOf(change('evaluate', 'evaluated'))).toBeUndefined();
    expect(eventOf(change('opened', 'reported'))).toBeUndefined();
    expect(eventOf(change('joined', 'filed'))).toBeUndefined();
    expect(eventOf(change('accept', 'accepted'))).toBeUndefined();
  });

  it('makes one notification per change and subscribed target, with the signed body', () => {
    const targets = [target(['dispatched']), { ...target(['closed', 'dispatched']), url: 'http://127.0.0.1:2/h' }];
    const out = notificationsFor(targets, [change('dispatch', 'dispatched'), change('pass', 'closed', 'CG-2')], 1000);
    expect(out.map((o) => [o.url, o.event, o.caseId])).toEqual([
      ['http://127.0.0.1:1/hook', 'dispatched', 'CG-1'],
      ['http://127.0.0.1:2/h', 'dispatched', 'CG-1'],
      ['http://127.0.0.1:2/h', 'closed', 'CG-2'],
    ]);
    const body = JSON.parse(out[0]?.body as string);
    expect(body).toMatchObject({ id: out[0]?.id, event: 'dispatched', caseId: 'CG-1', at: 1000 });
    expect(body.case).toMatchObject({ id: 'CG-1', historyLength: 1 });
    expect(body.case.history).toBeUndefined();
    expect(new Set(out.map((o) => o.id)).size).toBe(3);
  });
});

describe('webhook outbox and profile in cases.db', () => {
  it('keeps a pending notification across a reopen until it is deleted; a retry moves its next attempt', () => {
    const dir = tmpDir();
    const s = open(dir);
    const [n] = notificationsFor([target(['dispatched'])], [change('dispatch', 'dispatched')], 1000);
    if (!n) throw new Error('no notification');
    s.save({ outbox: [n] }, 1000);
    s.retryDelivery(n.id, 1, 3000, 'HTTP 500');
    s.close();
    const again = open(dir);
    expect(again.pendingDeliveries()).toBe(1);
    expect(again.dueDeliveries(2999, 10)).toEqual([]);
    expect(again.nextDeliveryAt()).toBe(3000);
    expect(again.dueDeliveries(3000, 10)).toEqual([{ ...n, attempts: 1, nextAt: 3000, lastError: 'HTTP 500' }]);
    again.deleteDelivery(n.id);
    expect(again.pendingDeliveries()).toBe(0);
    expect(again.nextDeliveryAt()).toBeUndefined();
  });

  it('records profile switches (who, when, why) and returns the last after a reopen', () => {
    const dir = tmpDir();
    const s = open(dir);
    expect(s.profile()).toBeUndefined();
    s.saveProfile({ profile: 'flood', actor: 'duty-1', note: '暴雨红色预警', at: 5 });
    s.saveProfile({ profile: 'snow', actor: 'duty-2', at: 6 });
    s.close();
    expect(open(dir).profile()).toEqual({ profile: 'snow', actor: 'duty-2', at: 6 });
  });
});
