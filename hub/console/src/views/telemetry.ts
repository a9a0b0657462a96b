/**
 * Live telemetry of one device: its values updating from /api/stream, and a chart of the last
 * hours from GET /api/telemetry with the rule limits from GET /api/rules drawn on it.
 */
import { api, type Reading } from '../api.js';
import { type Limit, ruleLimits, type TimeChart, telemetryPoints, timeChart } from '../chart.js';
import { clear, formatTime, formatValue, h } from '../dom.js';
import { t } from '../i18n.js';
import { store } from '../store.js';

const HOURS = [1, 6, 24];

function deviceIds(): string[] {
  const ids = new Set<string>(store.latest.keys());
  for (const g of store.gateways) for (const d of g.devices ?? []) ids.add(d.id);
  return [...ids].sort();
}

const numericFields = (r: Reading | undefined) =>
  Object.entries(r?.fields ?? {})
    .filter(([k, v]) => typeof v === 'number' && k !== 'quality')
    .map(([k]) => k);

export function mountTelemetry(root: HTMLElement, device: string | undefined): () => void {
  const filter = h('input', { type: 'search', id: 'device-filter', placeholder: t('pickDevice') });
  const list = h('ul', { class: 'device-list', id: 'device-list' });
  const detail = h('div', { class: 'telemetry-detail' });
  root.append(h('section', { class: 'telemetry-view' }, h('aside', {}, filter, list), detail));

  let known = deviceIds();
  const renderList = () => {
    clear(list);
    const q = filter.value.trim().toLowerCase();
    for (const id of known.filter((d) => !q || d.toLowerCase().includes(q)).slice(0, 300)) {
      const r = store.latest.get(id);
      list.append(
        h(
          'li',
          { class: id === device ? 'active' : '' },
          h(
            'a',
            { href: `#/telemetry/${encodeURIComponent(id)}`, 'data-device': id },
            id,
            r ? h('small', {}, ` ${r.kind}`) : null,
          ),
        ),
      );
    }
  };
  filter.addEventListener('input', renderList);
  renderList();

  let chart: TimeChart | undefined;
  let field: string | undefined;
  let limitsBody: unknown;
  const values = h('tbody');
  const updated = h('span', { class: 'dim', id: 'live-updated' });
  const renderValues = (r: Reading | undefined) => {
    clear(values);
    for (const [k, v] of Object.entries(r?.fields ?? {}))
      values.append(
        h('tr', { 'data-field': k }, h('th', {}, k), h('td', { class: 'live-value', 'data-field': k }, formatValue(v))),
      );
    updated.textContent = r ? formatTime(r.ts) : '';
  };

  const loadHistory = async (hours: number) => {
    if (!device || !field || !chart) return;
    const to = Date.now();
    const from = to - hours * 3_600_000;
    const q = new URLSearchParams({ device, field, from: String(from), to: String(to), maxPoints: '1000' });
    const body = await api<unknown>(`/api/telemetry?${q}`).catch(() => []);
    const points = telemetryPoints(body, field);
    const live = store.latest.get(device);
    const lv = live?.fields[field];
    if (live && typeof lv === 'number' && (points.length === 0 || (points.at(-1) as [number, number])[0] < live.ts))
      points.push([live.ts, lv]);
    chart.setData(
      points.map((p) => p[0]),
      points.map((p) => p[1]),
    );
  };

  const showField = (f: string, hours: number) => {
    field = f;
    chart?.destroy();
    chart = timeChart({ label: f, width: Math.max(400, detail.clientWidth - 60) });
    chartBox.replaceChildren(chart.el);
    const limits: Limit[] = ruleLimits(limitsBody, f);
    chart.setLimits(limits);
    void loadHistory(hours);
  };
  const chartBox = h('div', { id: 'telemetry-chart' });

  if (!device) detail.append(h('p', { class: 'dim' }, t('pickDevice')));
  else {
    const r = store.latest.get(device);
    renderValues(r);
    const fieldSelect = h('select', { id: 'field-select' });
    const hourSelect = h('select', { id: 'hours-select' });
    for (const hr of HOURS) hourSelect.append(h('option', { value: hr }, `${hr} ${t('chartHours')}`));
    hourSelect.value = '6';
    const fillFields = (rr: Reading | undefined) => {
      const fs = numericFields(rr);
      if (fs.join() === [...fieldSelect.options].map((o) => o.value).join()) return;
      clear(fieldSelect);
      for (const f of fs) fieldSelect.append(h('option', { value: f }, f));
      if (field && fs.includes(field)) fieldSelect.value = field;
    };
    fillFields(r);
    fieldSelect.addEventListener('change', () => showField(fieldSelect.value, Number(hourSelect.value)));
    hourSelect.addEventListener('change', () => void loadHistory(Number(hourSelect.value)));
    detail.append(
      h(
        'h2',
        { id: 'telemetry-device' },
        device,
        ' ',
        r ? h('small', {}, `${r.kind} · ${r.asset ?? ''} · ${r.district ?? ''}`) : null,
      ),
      h('div', { class: 'row' }, h('label', {}, t('field'), fieldSelect), h('label', {}, hourSelect), updated),
      h('table', { class: 'grid values', id: 'live-values' }, values),
      chartBox,
    );
    void api<unknown>(`/api/rules?device=${encodeURIComponent(device)}`)
      .catch(() => undefined)
      .then((body) => {
        limitsBody = body;
        const preferred = numericFields(store.latest.get(device)).find((f) => ruleLimits(body, f).length > 0);
        const first = preferred ?? fieldSelect.value;
        if (first) {
          fieldSelect.value = first;
          showField(first, Number(hourSelect.value));
        }
      });
    const off = store.subscribe((changes) => {
      const next = changes.readings.get(device);
      if (next) {
        if (!field) fillFields(next);
        renderValues(next);
        const v = field ? next.fields[field] : undefined;
        if (chart && typeof v === 'number') chart.push(next.ts, v);
        if (!field && fieldSelect.value) showField(fieldSelect.value, Number(hourSelect.value));
      }
      if (changes.readings.size > 0 || changes.gateways) {
        const ids = deviceIds();
        if (ids.length !== known.length) {
          known = ids;
          renderList();
        }
      }
    });
    return () => {
      off();
      chart?.destroy();
    };
  }
  const off = store.subscribe((changes) => {
    if (changes.readings.size > 0 || changes.gateways) {
      const ids = deviceIds();
      if (ids.length !== known.length) {
        known = ids;
        renderList();
      }
    }
  });
  return off;
}
