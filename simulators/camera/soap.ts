/**
 * The simulated camera's own SOAP 1.2 reading and writing. Pure: no I/O, no clock.
 *
 * Requests are read with a few tolerant regular expressions rather than a full XML parser: a
 * camera firmware sees one request element per Body and looks up its parameters by local name, so
 * prefixes are free (clients differ: npm onvif uses default namespaces, libonvif prefixes).
 */

/** Namespace prefixes every response declares (domain 5-onvif.md §5.1). */
export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  tns1: 'http://www.onvif.org/ver10/topics',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wsa5: 'http://www.w3.org/2005/08/addressing',
  ter: 'http://www.onvif.org/ver10/error',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
} as const;

const NS_DECL = Object.entries(NS)
  .map(([p, uri]) => `xmlns:${p}="${uri}"`)
  .join(' ');

/** Escapes text for an XML element or attribute. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** A response envelope around `body` (already XML). */
export function envelope(body: string, header = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope ${NS_DECL}>${header ? `<s:Header>${header}</s:Header>` : ''}<s:Body>${body}</s:Body></s:Envelope>`;
}

export type FaultCode = 'Sender' | 'Receiver';

/** A SOAP 1.2 fault, e.g. `fault('Sender', 'ter:NotAuthorized', 'Sender not Authorized')`. */
export function fault(code: FaultCode, subcode: string, reason: string): string {
  return envelope(
    `<s:Fault><s:Code><s:Value>s:${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${xmlEscape(reason)}</s:Text></s:Reason></s:Fault>`,
  );
}

/** The local name of the first element inside the Body: the operation. Undefined when there is none. */
export function operationOf(xml: string): string | undefined {
  const body = /<(?:[\w.-]+:)?Body\b[^>]*>/.exec(xml);
  if (!body) return undefined;
  const rest = xml.slice(body.index + body[0].length);
  const first = /<(?:[\w.-]+:)?([A-Za-z_][\w.-]*)[\s/>]/.exec(rest);
  return first?.[1];
}

/** Text of the first element with this local name (any prefix), entity-decoded; undefined when absent. */
export function elementText(xml: string, localName: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${localName}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${localName}>`).exec(xml);
  return m?.[1] === undefined ? undefined : xmlUnescape(m[1].trim());
}

/** Value of attribute `attr` on the first element with this local name. */
export function elementAttribute(xml: string, localName: string, attr: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${localName}\\s[^>]*?\\b${attr}="([^"]*)"`).exec(xml);
  return m?.[1] === undefined ? undefined : xmlUnescape(m[1]);
}

function xmlUnescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'",
  );
}

/** The WS-Security UsernameToken of a request, when it carries one. */
export interface UsernameToken {
  username: string;
  password: string;
  /** `PasswordDigest` or `PasswordText` (the fragment of the Type URI). */
  passwordType: 'PasswordDigest' | 'PasswordText';
  nonce?: string;
  created?: string;
}

export function usernameToken(xml: string): UsernameToken | undefined {
  const block = /<(?:[\w.-]+:)?UsernameToken\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?UsernameToken>/.exec(xml)?.[1];
  if (block === undefined) return undefined;
  const username = elementText(block, 'Username');
  const password = elementText(block, 'Password');
  if (username === undefined || password === undefined) return undefined;
  const type = elementAttribute(block, 'Password', 'Type') ?? '';
  return {
    username,
    password,
    passwordType: type.endsWith('#PasswordText') ? 'PasswordText' : 'PasswordDigest',
    nonce: elementText(block, 'Nonce'),
    created: elementText(block, 'Created'),
  };
}

/**
 * An xsd:duration as ONVIF uses it (`PT1M`, `PT10S`, `PT0.5S`, `P1DT2H`) in ms; undefined when it
 * is not one. Years and months are refused (no fixed length).
 */
export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
    text.trim(),
  );
  if (!m || text.trim() === 'P' || text.trim() === 'PT') return undefined;
  const [d, h, min, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  return Math.round((((d ?? 0) * 24 + (h ?? 0)) * 60 + (min ?? 0)) * 60_000 + (s ?? 0) * 1000);
}

/**
 * An ONVIF time as clients parse it: UTC with a trailing `Z` and no fraction (npm onvif's date
 * pattern only turns `...Z` into a Date; older releases refuse fractions).
 */
export function onvifTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A termination time a client asks for: a duration relative to now (`PT2M`) or an absolute
 * dateTime. Returns ms since epoch, or undefined when it is neither.
 */
export function terminationTime(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const rel = parseDuration(text);
  if (rel !== undefined) return now + rel;
  const abs = Date.parse(text);
  return Number.isFinite(abs) ? abs : undefined;
}
