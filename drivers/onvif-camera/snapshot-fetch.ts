/**
 * GET of a camera's snapshot URI: answers a 401 with HTTP Digest (RFC 7616: MD5 or SHA-256,
 * qop=auth) or Basic, reads at most `maxBytes`, and gives up after `timeoutMs`.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { CameraError } from './errors.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Parses one `WWW-Authenticate: Digest ...` challenge into lower-cased keys. */
export function parseChallenge(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.replace(/^\s*\w+\s+/, '').matchAll(/([A-Za-z0-9-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g))
    if (m[1]) out[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

/** The Authorization header answering `challenge` for `method uri` (pure but for the client nonce). */
export function digestAuthorization(
  challenge: Record<string, string>,
  creds: Credentials,
  method: string,
  uri: string,
  cnonce = randomBytes(8).toString('hex'),
  nc = '00000001',
): string {
  const algorithm = (challenge.algorithm ?? 'MD5').toUpperCase();
  const hashName = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  const h = (s: string) => createHash(hashName).update(s).digest('hex');
  const ha1 = h(`${creds.username}:${challenge.realm ?? ''}:${creds.password}`);
  const ha2 = h(`${method}:${uri}`);
  const qop = challenge.qop
    ?.split(',')
    .map((q) => q.trim())
    .includes('auth')
    ? 'auth'
    : undefined;
  const response = qop
    ? h(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:${qop}:${ha2}`)
    : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const parts = [
    `username="${creds.username}"`,
    `realm="${challenge.realm ?? ''}"`,
    `nonce="${challenge.nonce ?? ''}"`,
    `uri="${uri}"`,
    ...(challenge.algorithm ? [`algorithm=${challenge.algorithm}`] : []),
    ...(qop ? [`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`] : []),
    `response="${response}"`,
    ...(challenge.opaque ? [`opaque="${challenge.opaque}"`] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}

interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(url: URL, headers: Record<string, string>, timeoutMs: number, maxBytes: number): Promise<HttpResult> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: CameraError) => {
      if (settled) return;
      settled = true;
      reject(err);
      req.destroy();
    };
    const req = lib.get(url, { headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > maxBytes)
          fail(new CameraError('EVIDENCE_TOO_LARGE', `snapshot is larger than maxEvidenceBytes (${maxBytes})`));
        else chunks.push(d);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', (err) =>
        fail(new CameraError('SNAPSHOT_FAILED', `snapshot download failed: ${err.message}`, { cause: err })),
      );
    });
    req.on('timeout', () => fail(new CameraError('SNAPSHOT_FAILED', `snapshot took longer than ${timeoutMs} ms`)));
    req.on('error', (err) =>
      fail(new CameraError('SNAPSHOT_FAILED', `snapshot request failed: ${err.message}`, { cause: err })),
    );
  });
}

/** Fetches the snapshot; throws CameraError (auth, HTTP status, timeout, too large). */
export async function fetchSnapshot(
  uri: string,
  creds: Credentials,
  opts: { timeoutMs: number; maxBytes: number },
): Promise<{ data: Buffer; contentType?: string }> {
  const url = new URL(uri);
  const deadline = Date.now() + opts.timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  let res = await get(url, {}, left(), opts.maxBytes);
  if (res.status === 401) {
    const header = res.headers['www-authenticate'];
    const challenges = (Array.isArray(header) ? header : header ? [header] : []).flatMap((h) =>
      h.split(/,\s*(?=Digest|Basic)/),
    );
    const digest = challenges.find((c) => /^\s*Digest/i.test(c));
    const path = url.pathname + url.search;
    const authorization = digest
      ? digestAuthorization(parseChallenge(digest), creds, 'GET', path)
      : `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    res = await get(url, { Authorization: authorization }, left(), opts.maxBytes);
    if (res.status === 401)
      throw new CameraError('CAMERA_AUTH_FAILED', 'snapshot URI refused the credentials (HTTP 401)');
  }
  if (res.status !== 200) throw new CameraError('SNAPSHOT_FAILED', `snapshot URI answered HTTP ${res.status}`);
  const contentType = res.headers['content-type'];
  return { data: res.body, ...(contentType ? { contentType } : {}) };
}
