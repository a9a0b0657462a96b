/** What the big map and the case detail's small map share: colours and the optional base layer. */
import L from 'leaflet';

export const URGENCY_RANK: Record<string, number> = { normal: 1, elevated: 2, urgent: 3, critical: 4 };
export const URGENCY_COLOURS: Record<string, string> = {
  normal: '#4ea1ff',
  elevated: '#f5c542',
  urgent: '#f08a24',
  critical: '#f0616d',
};

/** The hub writes console.tileUrl into the page's meta tag; empty means no base map (closed networks). */
export function addBaseLayer(map: L.Map): void {
  const url = document.querySelector<HTMLMetaElement>('meta[name="cg-tile-url"]')?.content;
  if (url) L.tileLayer(url, { maxZoom: 19 }).addTo(map);
}
