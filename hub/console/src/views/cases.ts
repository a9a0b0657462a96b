/**
 * The case queue: filters (state, district, unit, category, urgency, overdue), the time left to
 * the current stage's deadline counting down, new cases from `event: case` arriving without a
 * reload. The list is virtualised (only the rows in view exist in the DOM) and paged from the
 * server 200 at a time as the operator scrolls.
 */
import { api, type CaseSummary } from '../api.js';
import { formatDuration, formatTime, h } from '../dom.js';
import { lang, stateLabel, t, urgencyLabel } from '../i18n.js';
import { store } from '../store.js';

const ROW_H = 34;
const PAGE = 200;

export interface CaseFilter {
  state?: string;
  district?: string;
  unit?: string;
  category?: string;
  urgency?: string;
  overdue?: boolean;
  open?: boolean;
}

/** The deadline of the stage the case is in: the first not done. */
export function currentDue(c: CaseSummary): number | undefined {
  for (const stage of ['dispatch', 'handle', 'verify'] as const) {
    const d = c.deadlines?.[stage];
    if (d && d.doneAt === undefined && d.dueAt !== undefined) return d.dueAt;
  }
  return undefined;
}

const terminal = () => store.catalogue?.terminalStates ?? ['closed', 'not_filed', 'evaluated'];

export function matches(c: CaseSummary, f: CaseFilter, now: number): boolean {
  if (f.state && c.state !== f.state) return false;
  if (f.district && c.district !== f.district) return false;
  if (f.unit && c.unit !== f.unit) return false;
  if (f.category && c.category !== f.category) return false;
  if (f.urgency && c.urgency !== f.urgency) return false;
  if (f.open && terminal().includes(c.state)) return false;
  if (f.overdue) {
    const due = currentDue(c);
    if (!(c.overdue || (due !== undefined && due < now))) return false;
  }
  return true;
}

/** Remembered across visits to the queue (the operator's working filter). */
const filter: CaseFilter = { open: true };

export function mountCases(root: HTMLElement): () => void {
  const select = (name: keyof CaseFilter, options: [string, string][]) => {
    const s = h('select', { name, id: `filter-${name}` }, h('option', { value: '' }, t('all')));
    for (const [v, label] of options) s.append(h('option', { value: v }, label));
    s.value = (filter[name] as string | undefined) ?? '';
    s.addEventListener('change', () => {
      (filter as Record<string, unknown>)[name] = s.value || undefined;
      void reload();
    });
    return h('label', {}, t(name as 'state'), s);
  };
  const check = (name: 'overdue' | 'open', label: string) => {
    const c = h('input', { type: 'checkbox', name, id: `filter-${name}`, checked: filter[name] === true });
    c.addEventListener('change', () => {
      filter[name] = c.checked || undefined;
      void reload();
    });
    return h('label', { class: 'check' }, c, label);
  };
  const units = new Set<string>([...store.cases.values()].map((c) => c.unit).filter((u): u is string => !!u));
  const filters = h(
    'form',
    { class: 'filters', id: 'case-filters' },
    select(
      'state',
      Object.keys(stateLabelMap()).map((s) => [s, stateLabel(s)]),
    ),
    select(
      'district',
      (store.city?.districts ?? []).map((d) => [d.id, d.name]),
    ),
    select(
      'unit',
      [...units].sort().map((u) => [u, store.unitName(u)]),
    ),
    select(
      'category',
      (store.catalogue?.classes ?? []).map((c) => [
        c.key,
        `${c.code} ${lang === 'en' && c.nameEn ? c.nameEn : c.name}`,
      ]),
    ),
    select(
      'urgency',
      ['normal', 'elevated', 'urgent', 'critical'].map((u) => [u, urgencyLabel(u)]),
    ),
    check('overdue', t('overdue')),
    check('open', t('openOnly')),
  );
  filters.addEventListener('submit', (e) => e.preventDefault());
  const count = h('span', { class: 'dim', id: 'case-count' });
  const headerRow = h(
    'div',
    { class: 'case-row head' },
    ...[
      '#',
      t('category'),
      t('state'),
      t('urgency'),
      t('district'),
      t('unit'),
      t('asset'),
      t('reportedAt'),
      t('deadline'),
    ].map((x) => h('span', {}, x)),
  );
  const spacer = h('div', { class: 'spacer' });
  const rows = h('div', { class: 'rows' });
  const viewport = h('div', { class: 'case-list', id: 'case-list' }, spacer, rows);
  root.append(h('section', { class: 'page cases-view' }, filters, count, headerRow, viewport));

  let items: CaseSummary[] = [];
  let exhausted = false;
  let loading = false;
  let generation = 0;
  const fresh = new Set<string>();

  const query = (offset: number) => {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) q.set(k, String(v));
    return `/api/cases?${q}`;
  };

  async function reload(): Promise<void> {
    const gen = ++generation;
    items = [];
    exhausted = false;
    viewport.scrollTop = 0;
    await more(gen);
  }

  async function more(gen = generation): Promise<void> {
    if (loading || exhausted) return;
    loading = true;
    try {
      const page = await api<{ items: CaseSummary[] }>(query(items.length));
      if (gen !== generation) return;
      const seen = new Set(items.map((c) => c.id));
      items.push(...page.items.filter((c) => !seen.has(c.id)));
      exhausted = page.items.length < PAGE;
    } finally {
      loading = false;
    }
    render();
  }

  const cell = (text: string, cls = '') => h('span', { class: cls }, text);
  function render(): void {
    const now = Date.now();
    spacer.style.height = `${items.length * ROW_H}px`;
    count.textContent = `${items.length}${exhausted ? '' : '+'} ${t('shown')}`;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - 5);
    const last = Math.min(items.length, first + Math.ceil(viewport.clientHeight / ROW_H) + 10);
    const out: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const c = items[i] as CaseSummary;
      const due = currentDue(c);
      const left = due === undefined ? undefined : due - now;
      const row = h(
        'a',
        {
          class: `case-row u-${c.urgency}${fresh.has(c.id) ? ' fresh' : ''}`,
          href: `#/cases/${encodeURIComponent(c.id)}`,
          'data-case': c.id,
          'data-state': c.state,
        },
        cell(c.id),
        cell(store.categoryName(c.category, lang)),
        cell(stateLabel(c.state)),
        cell(urgencyLabel(c.urgency), `urgency u-${c.urgency}`),
        cell(c.district ?? ''),
        cell(store.unitName(c.unit)),
        cell(c.asset ?? ''),
        cell(formatTime(c.reportedAt)),
        cell(
          left === undefined ? '—' : formatDuration(left),
          left !== undefined && left < 0 ? 'countdown late' : 'countdown',
        ),
      );
      row.style.top = `${i * ROW_H}px`;
      out.push(row);
    }
    rows.replaceChildren(...out);
    if (items.length === 0 && exhausted) rows.replaceChildren(h('p', { class: 'dim empty' }, t('noCases')));
    if (!exhausted && last >= items.length - 20) void more();
  }

  let scrollFrame = 0;
  viewport.addEventListener('scroll', () => {
    if (!scrollFrame)
      scrollFrame = requestAnimationFrame(() => {
        scrollFrame = 0;
        render();
      });
  });
  const tick = setInterval(render, 1000);
  const off = store.subscribe((changes) => {
    if (changes.cases.length === 0) return;
    const now = Date.now();
    for (const change of changes.cases) {
      const c = store.cases.get(change.id) ?? change;
      const at = items.findIndex((x) => x.id === c.id);
      if (matches(c, filter, now)) {
        if (at >= 0) items[at] = c;
        else {
          items.unshift(c);
          fresh.add(c.id);
        }
      } else if (at >= 0) items.splice(at, 1);
    }
    render();
  });
  void reload();
  return () => {
    off();
    clearInterval(tick);
    if (scrollFrame) cancelAnimationFrame(scrollFrame);
  };
}

function stateLabelMap(): Record<string, true> {
  return Object.fromEntries(
    [
      'reported',
      'accepted',
      'filed',
      'dispatched',
      'returned',
      'processing',
      'postponed',
      'feedback',
      'verifying',
      'rework',
      'closed',
      'not_filed',
      'suspended',
      'evaluated',
    ].map((s) => [s, true]),
  );
}
