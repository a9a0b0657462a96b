/**
 * The situation page (#/situation, issue 10): the live incidents with their switches (confirm or
 * dismiss a proposal; change the level of, or close, an open one; open a new one), then what
 * GET /api/situation shows for the incident's districts: underpasses by depth with trend and
 * closure, closures in force, rain, road surfaces, open cases by urgency and age, priority-road
 * coverage, gateways offline. Refreshed every 5 s and after each switch.
 */
import { ApiError, api } from '../api.js';
import { append, clear, formatDuration, formatTime, formatValue, h } from '../dom.js';
import { lang, urgencyLabel } from '../i18n.js';
import { store } from '../store.js';

const L: Record<string, readonly [string, string]> = {
  situation: ['态势', 'Situation'],
  incidents: ['应急事件', 'Incidents'],
  none: ['无进行中的应急事件', 'No incident in progress'],
  open: ['启动', 'Open'],
  confirm: ['确认启动', 'Confirm'],
  dismiss: ['驳回', 'Dismiss'],
  close: ['结束', 'Close'],
  level: ['调整级别', 'Set level'],
  reason: ['原因', 'Reason'],
  flood: ['防汛', 'Flood'],
  snow: ['抗雪防冻', 'Snow'],
  city: ['全市', 'Whole city'],
  proposed: ['待确认', 'Proposed'],
  underpasses: ['下立交积水', 'Underpasses'],
  depth: ['水深 cm', 'Depth cm'],
  trend: ['趋势', 'Trend'],
  closure: ['封闭建议', 'Closure'],
  closures: ['封闭建议（生效中）', 'Closures in force'],
  rain: ['雨量', 'Rain'],
  roads: ['路面状态', 'Road surfaces'],
  cases: ['未结案件', 'Open cases'],
  coverage: ['重点道路作业覆盖', 'Priority-road coverage'],
  offline: ['离线网关', 'Gateways offline'],
  rising: ['上涨', 'rising'],
  falling: ['下降', 'falling'],
  steady: ['平稳', 'steady'],
  unknown: ['—', '—'],
};
const l = (k: string) => (L[k] ? L[k][lang === 'zh' ? 0 : 1] : k);

interface Incident {
  id: string;
  type: 'flood' | 'snow';
  level: string;
  state: string;
  districts: string[];
  history: { action: string; by: string; at: number; reason: string }[];
}
type Situation = Record<string, unknown> & {
  underpasses: {
    asset: string;
    name: string;
    district: string;
    depthCm?: number;
    trend: string;
    cmPerHour?: number;
    closed: boolean;
  }[];
  closures: { asset: string; raisedAt: number; maxDepthCm: number; case?: string }[];
  rain: { byDistrict: Record<string, { gauges: number; maxIntensityMmh?: number; maxTotalMm?: number }> };
  roads: { device: string; district: string; surfaceTempC?: number; surfaceState?: string }[];
  cases: { open: number; byUrgency: Record<string, number>; byAge: Record<string, number> };
  coverage?: { priorityRoads: { id: string; name?: string; coverage: number }[] };
  gateways: { online: number; offline: { id: string; district: string; lastSeen?: number }[] };
};

const LEVELS = ['IV', 'III', 'II', 'I'];

function table(id: string, head: string[], rows: (string | number)[][]): HTMLElement {
  return h(
    'table',
    { class: 'grid', id },
    h('thead', {}, h('tr', {}, ...head.map((x) => h('th', {}, x)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, String(c)))))),
  );
}

export function mountSituation(root: HTMLElement): () => void {
  const bar = h('div', { id: 'incident-bar' });
  const body = h('div', { id: 'situation-body' });
  const message = h('p', { class: 'error', id: 'situation-error' });
  root.append(h('section', { class: 'page' }, h('h2', {}, l('situation')), message, bar, body));
  const user = store.user;
  const canSwitch = user?.role === 'city_supervisor' || user?.role === 'district_commander';

  const act = async (path: string, payload: unknown) => {
    message.textContent = '';
    try {
      await api(path, { method: 'POST', body: payload });
    } catch (err) {
      message.textContent = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
    }
    await refresh();
  };
  const reasonInput = () => h('input', { placeholder: l('reason'), class: 'reason' });

  const renderIncidents = (items: Incident[]) => {
    clear(bar);
    const live = items.filter((i) => i.state === 'open' || i.state === 'proposed');
    bar.append(h('h3', {}, l('incidents')));
    if (live.length === 0) bar.append(h('p', {}, l('none')));
    for (const i of live) {
      const reason = reasonInput();
      const level = h('select', {}, ...LEVELS.map((x) => h('option', { value: x, selected: x === i.level }, x)));
      const last = i.history.at(-1);
      const post = (verb: string, extra: Record<string, unknown> = {}) =>
        void act(`/api/incidents/${encodeURIComponent(i.id)}/${verb}`, { reason: reason.value, ...extra });
      bar.append(
        h(
          'div',
          { class: `incident ${i.state}`, 'data-incident': i.id, 'data-state': i.state },
          h('strong', {}, `${i.id} ${l(i.type)} ${i.level}级`),
          ` ${i.state === 'proposed' ? l('proposed') : ''} ${i.districts.join(', ')} · ${last ? `${last.by}: ${last.reason} (${formatTime(last.at)})` : ''} `,
          canSwitch ? reason : null,
          canSwitch && i.state === 'proposed'
            ? h('button', { class: 'confirm', onclick: () => post('confirm') }, l('confirm'))
            : null,
          canSwitch && i.state === 'proposed'
            ? h('button', { class: 'dismiss', onclick: () => post('dismiss') }, l('dismiss'))
            : null,
          canSwitch ? level : null,
          canSwitch
            ? h('button', { class: 'set-level', onclick: () => post('level', { level: level.value }) }, l('level'))
            : null,
          canSwitch && i.state === 'open'
            ? h('button', { class: 'close', onclick: () => post('close') }, l('close'))
            : null,
        ),
      );
    }
    if (!canSwitch) return;
    const type = h(
      'select',
      { id: 'new-type' },
      h('option', { value: 'flood' }, l('flood')),
      h('option', { value: 'snow' }, l('snow')),
    );
    const districts = store.city?.districts.map((d) => d.id) ?? [];
    const scope = h(
      'select',
      { id: 'new-scope' },
      ...(user?.role === 'district_commander' ? [] : [h('option', { value: '*' }, l('city'))]),
      ...districts
        .filter((d) => user?.role !== 'district_commander' || d === user.district)
        .map((d) => h('option', { value: d }, d)),
    );
    const level = h('select', { id: 'new-level' }, ...LEVELS.map((x) => h('option', { value: x }, x)));
    const reason = reasonInput();
    reason.id = 'new-reason';
    bar.append(
      h(
        'div',
        { class: 'incident new' },
        type,
        scope,
        level,
        reason,
        h(
          'button',
          {
            id: 'open-incident',
            onclick: () =>
              void act('/api/incidents', {
                type: type.value,
                scope: scope.value === '*' ? { city: true } : { districts: [scope.value] },
                level: level.value,
                reason: reason.value,
              }),
          },
          l('open'),
        ),
      ),
    );
  };

  const renderSituation = (s: Situation) => {
    clear(body);
    const now = Date.now();
    append(body, [
      h('h3', {}, l('underpasses')),
      table(
        'underpass-table',
        ['', l('depth'), l('trend'), l('closure')],
        s.underpasses.map((u) => [
          `${u.asset} ${u.name}`,
          formatValue(u.depthCm),
          `${l(u.trend)}${u.cmPerHour !== undefined ? ` ${u.cmPerHour} cm/h` : ''}`,
          u.closed ? '⛔' : '',
        ]),
      ),
      h('h3', {}, l('closures')),
      table(
        'closure-table',
        ['', 'max cm', ''],
        s.closures.map((c) => [c.asset, c.maxDepthCm, `${formatDuration(now - c.raisedAt)} ${c.case ?? ''}`]),
      ),
      h('h3', {}, l('rain')),
      table(
        'rain-table',
        ['', 'mm/h', 'mm'],
        Object.entries(s.rain.byDistrict).map(([d, r]) => [
          d,
          formatValue(r.maxIntensityMmh),
          formatValue(r.maxTotalMm),
        ]),
      ),
      h('h3', {}, l('roads')),
      table(
        'road-table',
        ['', '°C', ''],
        s.roads.map((r) => [r.device, formatValue(r.surfaceTempC), String(r.surfaceState ?? '—')]),
      ),
      h('h3', {}, `${l('cases')}: ${s.cases.open}`),
      table(
        'case-urgency-table',
        [...Object.keys(s.cases.byUrgency).map(urgencyLabel), ...Object.keys(s.cases.byAge)],
        [[...Object.values(s.cases.byUrgency), ...Object.values(s.cases.byAge)]],
      ),
      s.coverage ? h('h3', {}, l('coverage')) : null,
      s.coverage
        ? table(
            'coverage-table',
            ['', '%'],
            s.coverage.priorityRoads.map((r) => [r.name ?? r.id, Math.round(r.coverage * 100)]),
          )
        : null,
      h('h3', {}, `${l('offline')}: ${s.gateways.offline.length}`),
      table(
        'offline-table',
        ['', '', ''],
        s.gateways.offline.map((g) => [g.id, g.district, formatTime(g.lastSeen)]),
      ),
    ]);
  };

  let stopped = false;
  let shown = '';
  const refresh = async () => {
    try {
      const [incidents, situation] = await Promise.all([
        api<{ items: Incident[] }>('/api/incidents'),
        api<Situation>('/api/situation'),
      ]);
      if (stopped) return;
      // Re-drawn only when an incident changed, so a reason being typed is not wiped by the refresh.
      const key = JSON.stringify(incidents.items.map((i) => [i.id, i.state, i.level, i.history.length]));
      if (key !== shown) renderIncidents(incidents.items);
      shown = key;
      renderSituation(situation);
    } catch (err) {
      if (!stopped) message.textContent = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), 5_000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** The navigation label of the page. */
export const situationLabel = () => l('situation');
