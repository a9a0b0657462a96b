/**
 * The city map: districts, grid cells, routes/roads and assets from /api/city (the config's own
 * geometry; a base map only when the hub config gives console.tileUrl). Leaflet draws on one
 * canvas (preferCanvas), so thousands of assets stay cheap. Assets are filled by their worst open
 * case, outlined by their devices' online state; vehicles move live from `vehicle` readings.
 */
import L from 'leaflet';
import type { CaseSummary, LonLat, Reading } from '../api.js';
import { h } from '../dom.js';
import { t, urgencyLabel } from '../i18n.js';
import { store } from '../store.js';
import { addBaseLayer, URGENCY_COLOURS, URGENCY_RANK } from './map-common.js';

const NO_CASE = '#8aa0b5';
const ll = (p: LonLat): L.LatLngExpression => [p[1], p[0]];

const isOpen = (c: CaseSummary) =>
  !(store.catalogue?.terminalStates ?? ['closed', 'not_filed', 'evaluated']).includes(c.state);

/** Worst open case urgency per asset. */
export function worstByAsset(cases: Iterable<CaseSummary>): Map<string, string> {
  const worst = new Map<string, string>();
  for (const c of cases) {
    if (!c.asset || !isOpen(c)) continue;
    const known = worst.get(c.asset);
    if (!known || (URGENCY_RANK[c.urgency] ?? 0) > (URGENCY_RANK[known] ?? 0)) worst.set(c.asset, c.urgency);
  }
  return worst;
}

export function mountMap(root: HTMLElement): () => void {
  const city = store.city;
  const el = h('div', { id: 'map', class: 'map' });
  const summary = h('div', { class: 'map-summary', id: 'map-summary' });
  const legend = h(
    'div',
    { class: 'legend' },
    ...Object.keys(URGENCY_COLOURS).map((u) => h('span', {}, h('i', { class: `dot u-${u}` }), urgencyLabel(u))),
    h('span', {}, h('i', { class: 'dot ring-off' }), t('offline')),
  );
  root.append(h('section', { class: 'map-view' }, el, h('div', { class: 'map-side' }, legend, summary)));
  const map = L.map(el, { preferCanvas: true, attributionControl: false, zoomSnap: 0.25 });
  addBaseLayer(map);
  const renderer = L.canvas({ padding: 0.2 });
  // Vehicles on a canvas of their own: a vehicle moving redraws only that layer, not 5 000 asset markers.
  const vehicleRenderer = L.canvas({ padding: 0.2, pane: 'markerPane' });
  const bounds = L.latLngBounds([]);
  for (const d of city?.districts ?? []) {
    const poly = L.polygon(d.boundary.map(ll), {
      renderer,
      color: '#5b7590',
      weight: 1.5,
      fill: false,
      interactive: false,
    });
    poly.addTo(map);
    bounds.extend(poly.getBounds());
  }
  for (const c of city?.gridCells ?? [])
    L.polygon(c.boundary.map(ll), {
      renderer,
      color: '#2c3e50',
      weight: 0.6,
      fillColor: '#1b2936',
      fillOpacity: 0.4,
      interactive: false,
    }).addTo(map);
  for (const r of [...(city?.routes ?? []), ...(city?.roads ?? [])])
    L.polyline(r.path.map(ll), { renderer, color: '#35516b', weight: 2, dashArray: '5 4', interactive: false }).addTo(
      map,
    );

  // Devices by asset, from the gateways' inventories: an asset with any device offline gets a red ring.
  const offlineAssets = () => {
    const off = new Set<string>();
    for (const g of store.gateways)
      for (const d of g.devices ?? []) if (d.asset && (d.online === false || !g.online)) off.add(d.asset);
    return off;
  };

  const markers = new Map<string, L.CircleMarker>();
  const popup = L.popup();
  let worst = worstByAsset(store.cases.values());
  let offline = offlineAssets();
  const styleOf = (assetId: string): L.PathOptions => {
    const u = worst.get(assetId);
    return {
      fillColor: u ? (URGENCY_COLOURS[u] ?? NO_CASE) : NO_CASE,
      color: offline.has(assetId) ? '#f0616d' : '#0f1720',
      weight: offline.has(assetId) ? 2.5 : 1,
    };
  };
  for (const a of city?.assets ?? []) {
    if (!a.location || a.kind === 'vehicle') continue;
    const m = L.circleMarker(ll(a.location), { renderer, radius: 5, fillOpacity: 0.9, ...styleOf(a.id) });
    m.on('click', () => {
      const u = worst.get(a.id);
      popup
        .setLatLng(ll(a.location as LonLat))
        .setContent(
          h(
            'div',
            { class: 'popup' },
            h('b', {}, a.name),
            h('div', {}, `${a.id} · ${a.kind} · ${a.district}`),
            u ? h('div', {}, `${t('urgency')}: ${urgencyLabel(u)}`) : null,
            ...[...store.cases.values()]
              .filter((c) => c.asset === a.id && isOpen(c))
              .slice(0, 5)
              .map((c) => h('div', {}, h('a', { href: `#/cases/${encodeURIComponent(c.id)}` }, c.id))),
          ),
        )
        .openOn(map);
    });
    m.addTo(map);
    markers.set(a.id, m);
    if (!city?.districts.length) bounds.extend(ll(a.location));
  }

  const vehicles = new Map<string, L.CircleMarker>();
  const moveVehicle = (r: Reading) => {
    const { lat, lon } = r.fields;
    if (typeof lat !== 'number' || typeof lon !== 'number') return;
    const known = vehicles.get(r.device);
    if (known) known.setLatLng([lat, lon]);
    else
      vehicles.set(
        r.device,
        L.circleMarker([lat, lon], {
          renderer: vehicleRenderer,
          radius: 6,
          color: '#fff',
          weight: 1.5,
          fillColor: '#4ea1ff',
          fillOpacity: 1,
        })
          .bindTooltip(r.device)
          .addTo(map),
      );
  };
  for (const r of store.latest.values()) if (r.kind === 'vehicle') moveVehicle(r);

  const renderSummary = () => {
    const counts: Record<string, number> = {};
    for (const u of worst.values()) counts[u] = (counts[u] ?? 0) + 1;
    summary.replaceChildren(
      h('div', { 'data-assets': markers.size }, `${t('asset')}: ${markers.size}`),
      h('div', { 'data-vehicles': vehicles.size }, `${t('vehicles')}: ${vehicles.size}`),
      h('div', { 'data-offline': offline.size }, `${t('devicesOffline')}: ${offline.size}`),
      ...Object.keys(URGENCY_COLOURS).map((u) =>
        h('div', { 'data-urgency': u, 'data-count': counts[u] ?? 0 }, `${urgencyLabel(u)}: ${counts[u] ?? 0}`),
      ),
    );
  };

  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
  else map.setView([30.27, 120.15], 12);
  renderSummary();

  const off = store.subscribe((changes) => {
    for (const r of changes.readings.values()) if (r.kind === 'vehicle') moveVehicle(r);
    let restyle: Set<string> | undefined;
    if (changes.cases.length > 0) {
      const next = worstByAsset(store.cases.values());
      restyle = new Set();
      for (const c of changes.cases) if (c.asset && next.get(c.asset) !== worst.get(c.asset)) restyle.add(c.asset);
      worst = next;
    }
    if (changes.gateways) {
      const next = offlineAssets();
      restyle ??= new Set();
      for (const a of new Set([...next, ...offline])) if (next.has(a) !== offline.has(a)) restyle.add(a);
      offline = next;
    }
    for (const a of restyle ?? []) markers.get(a)?.setStyle(styleOf(a));
    if (restyle?.size || changes.readings.size) renderSummary();
  });
  return () => {
    off();
    map.remove();
  };
}
