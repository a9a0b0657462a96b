/**
 * One case: category (zh/en), state, urgency, unit, location on a small map, history timeline,
 * the signals that raised or joined it (charted), evidence images and clips, and only the actions
 * the logged-in role may take in the case's state (from the workflow's guards, GET
 * /api/catalogue), each with a note. The hub enforces the same rules; this only avoids offering
 * buttons that would be refused.
 */
import L from 'leaflet';
import { ApiError, api, type CaseDetail, type EvidenceRecord, type LonLat } from '../api.js';
import { timeChart } from '../chart.js';
import { clear, formatDuration, formatTime, formatValue, h } from '../dom.js';
import { actionLabel, lang, roleLabel, stateLabel, t, urgencyLabel } from '../i18n.js';
import { store } from '../store.js';
import { currentDue } from './cases.js';
import { addBaseLayer, URGENCY_COLOURS } from './map-common.js';

/** Actions only the hub itself takes. */
const SYSTEM_ACTIONS = new Set(['mark_overdue', 'mark_normal']);

/** Extension actions only make sense with (approve/deny) or without (request) a pending request. */
function fitsCase(action: string, c: Pick<CaseDetail, 'extension'> | undefined): boolean {
  if (!c) return true;
  if (action === 'approve_extension' || action === 'deny_extension') return c.extension !== undefined;
  if (action === 'request_extension') return c.extension === undefined;
  return true;
}

export function allowedActions(state: string, role: string, c?: Pick<CaseDetail, 'extension'>): string[] {
  const wf = store.catalogue?.workflow ?? {};
  const terminal = store.catalogue?.terminalStates ?? ['closed', 'not_filed', 'evaluated'];
  return Object.entries(wf)
    .filter(([action, g]) => {
      if (SYSTEM_ACTIONS.has(action) || !g.roles.includes(role) || !fitsCase(action, c)) return false;
      return g.from === 'open' ? !terminal.includes(state) : g.from.includes(state);
    })
    .map(([action]) => action);
}

export function mountCaseDetail(root: HTMLElement, id: string): () => void {
  const section = h('section', { class: 'page case-detail', id: 'case-detail', 'data-case': id });
  root.append(section);
  let map: L.Map | undefined;
  let destroyed = false;
  let evidenceTimer: ReturnType<typeof setTimeout> | undefined;
  const charts: { destroy(): void }[] = [];

  const teardown = () => {
    map?.remove();
    map = undefined;
    for (const c of charts.splice(0)) c.destroy();
  };

  async function load(): Promise<void> {
    let c: CaseDetail;
    try {
      c = await api<CaseDetail>(`/api/cases/${encodeURIComponent(id)}`);
    } catch (err) {
      if (destroyed) return;
      clear(section);
      section.append(
        h('a', { href: '#/cases' }, `← ${t('back')}`),
        h(
          'p',
          { class: 'error', id: 'case-error' },
          err instanceof ApiError ? `${err.status} ${err.message}` : String(err),
        ),
      );
      return;
    }
    if (destroyed) return;
    teardown();
    clear(section);
    section.dataset.state = c.state;
    const due = currentDue(c);
    const cls = store.catalogue?.classes.find((x) => x.key === c.category);
    const categoryBoth = cls ? `${cls.code} ${cls.name}${cls.nameEn ? ` / ${cls.nameEn}` : ''}` : c.category;
    const info = h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('category')),
      h('dd', { id: 'case-category', title: categoryBoth }, `${store.categoryName(c.category, lang)} (${c.category})`),
      h('dt', {}, t('state')),
      h('dd', { id: 'case-state' }, stateLabel(c.state)),
      h('dt', {}, t('urgency')),
      h('dd', { class: `urgency u-${c.urgency}` }, urgencyLabel(c.urgency)),
      h('dt', {}, t('unit')),
      h('dd', { id: 'case-unit', 'data-unit': c.unit ?? '' }, c.unit ? store.unitName(c.unit) : '—'),
      h('dt', {}, t('district')),
      h('dd', {}, c.district ?? '—'),
      h('dt', {}, t('asset')),
      h('dd', {}, c.asset ?? '—'),
      h('dt', {}, t('source')),
      h('dd', {}, c.source),
      h('dt', {}, t('reportedAt')),
      h('dd', {}, formatTime(c.reportedAt)),
      h('dt', {}, t('deadline')),
      h(
        'dd',
        { class: due !== undefined && due < Date.now() ? 'late' : '' },
        due === undefined ? '—' : formatDuration(due - Date.now()),
      ),
    );
    const mapEl = h('div', { class: 'mini-map', id: 'case-map' });
    const history = h(
      'ol',
      { class: 'timeline', id: 'case-history' },
      ...c.history.map((e) =>
        h(
          'li',
          { 'data-action': e.action, 'data-seq': e.seq },
          h('time', {}, formatTime(e.at)),
          h('b', {}, actionLabel(e.action)),
          ` ${stateLabel(e.from)} → ${stateLabel(e.to)} · ${e.actor.id} (${roleLabel(e.actor.role)})`,
          e.data?.unit ? ` · ${t('unit')}: ${store.unitName(String(e.data.unit))}` : null,
          e.note ? h('div', { class: 'note' }, e.note) : null,
        ),
      ),
    );
    const evidence = h('div', { class: 'evidence', id: 'case-evidence' });
    const signals = h('div', { class: 'signals', id: 'case-signals' });
    const actions = h('div', { class: 'actions', id: 'case-actions' });
    section.append(
      h('a', { href: '#/cases' }, `← ${t('back')}`),
      h('h2', {}, c.title ?? categoryBoth, ' ', h('small', {}, c.id)),
      h('div', { class: 'detail-grid' }, info, mapEl),
      h('h3', {}, t('actions')),
      actions,
      h('h3', {}, t('history')),
      history,
      h('h3', {}, `${t('signals')} (${c.signalCount})`),
      signals,
      h('h3', {}, t('evidence')),
      evidence,
    );
    renderActions(actions, c);
    renderSignals(signals, c);
    void renderEvidence(evidence, c);
    // Evidence arrives after the case opens (the hub asks the asset's cameras): look again until some is there.
    clearTimeout(evidenceTimer);
    if (c.evidence.length === 0 && !(store.catalogue?.terminalStates ?? []).includes(c.state))
      evidenceTimer = setTimeout(() => void pollEvidence(evidence), 2000);
    map = smallMap(mapEl, c);
  }

  function renderSignals(el: HTMLElement, c: CaseDetail): void {
    const byField = new Map<string, [number, number][]>();
    const rows: HTMLElement[] = [];
    for (const s of c.signals) {
      const at = Number(s.at ?? s.ts);
      const field = String(s.rule ?? s.field ?? s.kind ?? 'value');
      const value = Number(s.value);
      rows.push(
        h(
          'tr',
          {},
          h('td', {}, formatTime(at)),
          h('td', {}, String(s.kind ?? '')),
          h('td', {}, String(s.device ?? s.source ?? '')),
          h('td', {}, field),
          h('td', {}, s.value === undefined ? String(s.text ?? '') : formatValue(s.value)),
        ),
      );
      if (s.value !== undefined && Number.isFinite(at) && Number.isFinite(value)) {
        const list = byField.get(field) ?? [];
        list.push([at, value]);
        byField.set(field, list);
      }
    }
    for (const [field, pts] of byField) {
      if (pts.length < 2) continue;
      pts.sort((a, b) => a[0] - b[0]);
      const chart = timeChart({ label: field, width: 560, height: 180 });
      chart.setData(
        pts.map((p) => p[0]),
        pts.map((p) => p[1]),
      );
      charts.push(chart);
      el.append(chart.el);
    }
    el.append(h('table', { class: 'grid' }, ...rows.slice(0, 50)));
  }

  async function pollEvidence(el: HTMLElement): Promise<void> {
    const c = await api<CaseDetail>(`/api/cases/${encodeURIComponent(id)}`).catch(() => undefined);
    if (destroyed || !c) return;
    if (c.evidence.length > 0) {
      clear(el);
      await renderEvidence(el, c);
    } else evidenceTimer = setTimeout(() => void pollEvidence(el), 2000);
  }

  async function renderEvidence(el: HTMLElement, c: CaseDetail): Promise<void> {
    if (c.evidence.length === 0) {
      el.append(h('p', { class: 'dim', id: 'no-evidence' }, t('noEvidence')));
      return;
    }
    const records = new Map<string, EvidenceRecord>();
    if (c.asset) {
      const list = await api<EvidenceRecord[]>(`/api/evidence?asset=${encodeURIComponent(c.asset)}&limit=200`).catch(
        () => [],
      );
      for (const r of list) records.set(r.id, r);
    }
    for (const eid of c.evidence) {
      const r = records.get(eid);
      const src = `/api/evidence/${encodeURIComponent(eid)}`;
      const caption = h('figcaption', {}, r ? `${r.device ?? ''} ${formatTime(r.ts)}` : eid.slice(0, 12));
      if (r?.mediaType.startsWith('video/'))
        el.append(
          h('figure', { 'data-evidence': eid }, h('video', { src, controls: true, preload: 'metadata' }), caption),
        );
      else
        el.append(
          h(
            'figure',
            { 'data-evidence': eid },
            h(
              'a',
              { href: src, target: '_blank', rel: 'noopener' },
              h('img', { src: r?.thumbnailId ? `${src}/thumbnail` : src, alt: eid }),
            ),
            caption,
          ),
        );
    }
  }

  function renderActions(el: HTMLElement, c: CaseDetail): void {
    const role = store.user?.role ?? '';
    const list = allowedActions(c.state, role, c);
    if (list.length === 0) {
      el.append(h('p', { class: 'dim', id: 'no-actions' }, t('noActions')));
      return;
    }
    for (const action of list) {
      const note = h('input', { name: 'note', placeholder: t('note'), 'data-note': action });
      const extra: HTMLElement[] = [];
      const body: Record<string, unknown> = { action };
      let unit: HTMLSelectElement | undefined;
      let hours: HTMLInputElement | undefined;
      let urgency: HTMLSelectElement | undefined;
      if (action === 'dispatch') {
        // The units the city lists, the proposed one first chosen; the server checks the choice.
        unit = h('select', { name: 'unit', title: t('unit') });
        for (const u of store.city?.units ?? [])
          unit.append(h('option', { value: u.id, selected: u.id === c.unit }, `${u.name} (${u.id})`));
        extra.push(unit);
      }
      if (action === 'request_extension') {
        hours = h('input', { name: 'hours', type: 'number', min: 1, value: 24, title: t('extensionHours') });
        extra.push(hours);
      }
      if (action === 'escalate') {
        urgency = h('select', { name: 'urgency' });
        for (const u of ['elevated', 'urgent', 'critical']) urgency.append(h('option', { value: u }, urgencyLabel(u)));
        extra.push(urgency);
      }
      const error = h('span', { class: 'error' });
      const form = h(
        'form',
        { class: 'action', 'data-action': action },
        ...extra,
        note,
        h('button', { type: 'submit', 'data-action': action }, actionLabel(action)),
        error,
      );
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        if (note.value) body.note = note.value;
        if (unit?.value) body.unit = unit.value;
        if (hours?.value) body.extensionHours = Number(hours.value);
        if (urgency) body.urgency = urgency.value;
        api(`/api/cases/${encodeURIComponent(c.id)}/transitions`, { method: 'POST', body })
          .then(() => load())
          .catch((err: unknown) => {
            error.textContent = err instanceof ApiError ? `${err.status}: ${err.message}` : String(err);
          });
      });
      el.append(form);
    }
  }

  const off = store.subscribe((changes) => {
    if (changes.cases.some((c) => c.id === id)) void load();
  });
  void load();
  return () => {
    destroyed = true;
    clearTimeout(evidenceTimer);
    off();
    teardown();
  };
}

function smallMap(el: HTMLElement, c: CaseDetail): L.Map | undefined {
  const asset = store.city?.assets.find((a) => a.id === c.asset);
  const at: LonLat | undefined = c.point ?? asset?.location;
  if (!at) {
    el.append(h('p', { class: 'dim' }, '—'));
    return undefined;
  }
  const map = L.map(el, { preferCanvas: true, attributionControl: false, zoomControl: false });
  addBaseLayer(map);
  const district = store.city?.districts.find((d) => d.id === c.district);
  if (district)
    L.polygon(
      district.boundary.map((p) => [p[1], p[0]] as L.LatLngTuple),
      { color: '#5b7590', weight: 1, fill: false },
    ).addTo(map);
  L.circleMarker([at[1], at[0]], {
    radius: 8,
    color: '#fff',
    weight: 2,
    fillColor: URGENCY_COLOURS[c.urgency] ?? '#8aa0b5',
    fillOpacity: 1,
  }).addTo(map);
  map.setView([at[1], at[0]], 14);
  return map;
}
