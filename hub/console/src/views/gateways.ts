/** Gateway health: online state, last seen, outbox backlog, sequence gaps, devices offline. */
import type { Gateway } from '../api.js';
import { clear, formatTime, h } from '../dom.js';
import { t } from '../i18n.js';
import { store } from '../store.js';

/** What the gateway holds for the hub (items not yet acknowledged), as its last health report said. */
function backlogCell(g: Gateway): HTMLElement {
  const o = g.health?.outbox;
  if (!o) return h('td', {}, '—');
  const title = `${o.backlog} taken while offline, ${Math.round(o.bytes / 1024)} KiB, oldest ${Math.round(o.oldestUnackedAgeMs / 1000)} s; reported ${formatTime(g.health?.receivedAt)}`;
  return h('td', { class: o.backlog > 0 ? 'warn' : '', title }, String(o.items));
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
      const devicesOffline = g.devicesOffline ?? offline.length;
      body.append(
        h(
          'tr',
          { 'data-gateway': g.id },
          h('td', {}, g.name ? `${g.id} ${g.name}` : g.id),
          h('td', {}, g.district),
          h('td', { class: g.online ? 'on' : 'off' }, g.online ? t('online') : t('offline')),
          h('td', {}, formatTime(g.lastSeen)),
          backlogCell(g),
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
