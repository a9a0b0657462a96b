/**
 * The operator console: a shell (navigation, language, user, stream state) and hash routes
 * #/map, #/telemetry[/<device>], #/cases, #/cases/<id>, #/gateways, #/situation. Plain TypeScript modules and
 * DOM; each view mounts into the main element and returns its unmount function.
 */
import 'leaflet/dist/leaflet.css';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { ApiError, api, setUnauthenticatedHandler, type User } from './api.js';
import { append, clear, h } from './dom.js';
import { lang, onLangChange, roleLabel, setLang, t } from './i18n.js';
import { store } from './store.js';
import { mountCaseDetail } from './views/case-detail.js';
import { mountCases } from './views/cases.js';
import { mountGateways } from './views/gateways.js';
import { mountLogin } from './views/login.js';
import { mountMap } from './views/map.js';
import { mountSituation, situationLabel } from './views/situation.js';
import { mountTelemetry } from './views/telemetry.js';

export type Unmount = () => void;

const header = h('header', { class: 'shell' });
const main = h('main', { id: 'view' });
let unmount: Unmount | undefined;
let started = false;

function renderHeader(): void {
  clear(header);
  const user = store.user;
  const link = (hash: string, label: string) =>
    h('a', { href: hash, class: location.hash.startsWith(hash) ? 'active' : '', 'data-nav': hash.slice(2) }, label);
  const status = h(
    'span',
    { class: `stream ${store.streamState}`, id: 'stream-state' },
    store.streamState === 'live' ? t('live') : t('reconnecting'),
  );
  append(header, [
    h('h1', {}, t('appTitle')),
    user
      ? h(
          'nav',
          {},
          link('#/map', t('map')),
          link('#/telemetry', t('telemetry')),
          link('#/cases', t('cases')),
          link('#/gateways', t('gateways')),
          link('#/situation', situationLabel()),
        )
      : h('span'),
    h('span', { class: 'spacer' }),
    user ? status : null,
    h(
      'button',
      { class: 'lang', id: 'lang-switch', onclick: () => setLang(lang === 'zh' ? 'en' : 'zh') },
      lang === 'zh' ? 'English' : '中文',
    ),
    user
      ? h(
          'span',
          { class: 'user', id: 'current-user', 'data-role': user.role },
          `${user.name ?? user.id} · ${roleLabel(user.role)}${user.district ? ` · ${user.district}` : ''}${user.unit ? ` · ${user.unit}` : ''}`,
        )
      : null,
    user ? h('button', { id: 'logout', onclick: () => void logout() }, t('logout')) : null,
  ]);
}

function route(): void {
  unmount?.();
  unmount = undefined;
  clear(main);
  if (!store.user) {
    unmount = mountLogin(main, (user) => void start(user));
    renderHeader();
    return;
  }
  const [, view = 'map', arg] = location.hash.replace(/^#/, '').split('/');
  const id = arg ? decodeURIComponent(arg) : undefined;
  document.body.dataset.view = view;
  if (view === 'cases' && id) unmount = mountCaseDetail(main, id);
  else if (view === 'cases') unmount = mountCases(main);
  else if (view === 'telemetry') unmount = mountTelemetry(main, id);
  else if (view === 'gateways') unmount = mountGateways(main);
  else if (view === 'situation') unmount = mountSituation(main);
  else unmount = mountMap(main);
  renderHeader();
}

async function start(user: User): Promise<void> {
  store.user = user;
  await store.load();
  store.connect();
  started = true;
  if (!location.hash || location.hash === '#/login') location.hash = '#/map';
  route();
}

async function logout(): Promise<void> {
  await api('/api/logout', { method: 'POST' }).catch(() => undefined);
  signedOut();
}

function signedOut(): void {
  store.disconnect();
  store.user = undefined;
  store.cases.clear();
  store.latest.clear();
  started = false;
  route();
}

async function boot(): Promise<void> {
  document.documentElement.lang = lang;
  document.body.append(header, main);
  setUnauthenticatedHandler(() => {
    if (store.user) signedOut();
  });
  addEventListener('hashchange', () => {
    if (started) route();
  });
  onLangChange(() => route());
  store.onStatus(() => {
    const el = document.getElementById('stream-state');
    if (el) {
      el.className = `stream ${store.streamState}`;
      el.textContent = store.streamState === 'live' ? t('live') : t('reconnecting');
    }
  });
  try {
    const me = await api<{ user: User }>('/api/me');
    await start(me.user);
  } catch (err) {
    // Every /api route needs a session: without one, the login view.
    if (err instanceof ApiError && err.status === 401) route();
    else throw err;
  }
}

// For tests and the bench: the store (counters, state) of the running page.
(window as unknown as { __cg: unknown }).__cg = store;

void boot();
