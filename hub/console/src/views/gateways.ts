/** Gateway health: online state, last seen, outbox backlog, sequence gaps, devices offline. */
import type { Gateway } from '../api.js';
import { clear, formatTime, h } from '../dom.js';
import { t } from '../i18n.js';
import { store } from '../store.js';

/** The backlog a gateway reports, whichever shape its health message has. */
function backlogOf(g: Gateway): number | undefined {
  if (typeof g.backlog === 'number') return g.backlog;
  if (typeof g.outbox === 'number') return g.outbox;
  if (g.outbox && typeof g.outbox === 'object') return g.outbox.backlog ?? g.outbox.pending;
  const health = g.health as { outbox?: { pending?: number; backlog?: number } } | undefined;
  return health?.outbox?.backlog ?? health?.outbox?.pending;
}

export function mountGateways(root: HTMLElement): () => void {
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'grid', id: 'gateway-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, t('gateway')),
        h('th', {}, t('district')),
        h('th', {}, t('state')),
        h('th', {}, t('lastSeen')),
        h('th', {}, t('backlog')),
        h('th', {}, t('gaps')),
        h('th', {}, t('devicesOffline')),
      ),
    ),
    body,
  );
  const render = () => {
    clear(body);
    for (const g of store.gateways) {
      const offline = (g.devices ?? []).filter((d) => d.online === false);
      const devicesOffline = typeof g.devicesOffline === 'number' ? g.devicesOffline : offline.length;
      body.append(
        h(
          'tr',
          { 'data-gateway': g.id },
          h('td', {}, g.name ? `${g.id} ${g.name}` : g.id),
          h('td', {}, g.district),
          h('td', { class: g.online ? 'on' : 'off' }, g.online ? t('online') : t('offline')),
          h('td', {}, formatTime(g.lastSeen)),
          h('td', {}, String(backlogOf(g) ?? '—')),
          h('td', {}, String(g.gaps ?? 0)),
          h('td', { title: offline.map((d) => d.id).join(', ') }, String(devicesOffline)),
        ),
      );
    }
  };
  root.append(h('section', { class: 'page' }, h('h2', {}, t('gateways')), table));
  render();
  const off = store.subscribe((c) => {
    if (c.gateways) render();
  });
  const timer = setInterval(() => void store.refreshGateways(), 10_000);
  return () => {
    off();
    clearInterval(timer);
  };
}
