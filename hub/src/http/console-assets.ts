/**
 * Serves the operator console: index.html (with the optional tile URL in a meta tag) and the
 * esbuild bundle from hub/console/dist, under a strict Content-Security-Policy: scripts, styles
 * and connections from this origin only, no inline script, images from here (and the tile server
 * when one is configured). The bundle is built at start when missing or older than its sources.
 */
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Logger } from '../../../drivers/sdk/log.js';
import { CONSOLE_DIR, CONSOLE_DIST, ensureConsoleBuilt } from '../../console/build.js';

export interface ConsoleAssets {
  /** Optional base-map tile URL template (`https://…/{z}/{x}/{y}.png`); none by default (closed networks). */
  tileUrl?: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

let buildError: string | undefined;

/** Builds the bundle when needed; a failed build is logged and the console answers 503, the API still runs. */
export async function prepareConsole(_opts: ConsoleAssets | undefined, log: Logger): Promise<void> {
  try {
    const result = await ensureConsoleBuilt();
    buildError = undefined;
    if (result.built) log.info({ ms: result.ms, bytes: result.bytes }, 'Console bundle built');
  } catch (err) {
    buildError = (err as Error).message;
    log.error({ err: buildError }, 'Console bundle failed to build; the console is unavailable');
  }
}

export function contentSecurityPolicy(tileUrl: string | undefined): string {
  let tiles = '';
  if (tileUrl) {
    try {
      tiles = ` ${new URL(tileUrl.replace(/\{[a-z]\}/g, '0')).origin}`;
    } catch {
      tiles = '';
    }
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${tiles}`,
    "media-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function serveConsole(
  opts: ConsoleAssets | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
): true {
  const headers = {
    'content-security-policy': contentSecurityPolicy(opts?.tileUrl),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  const fail = (status: number, message: string): true => {
    res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
    res.end(message);
    return true;
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return fail(405, 'method not allowed');
  }
  if (file === 'index.html') {
    const html = readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8').replace(
      '<meta name="cg-tile-url" content="">',
      `<meta name="cg-tile-url" content="${escapeAttr(opts?.tileUrl ?? '')}">`,
    );
    res.writeHead(200, {
      ...headers,
      'content-type': TYPES['.html'] as string,
      'content-length': Buffer.byteLength(html),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : html);
    return true;
  }
  const type = TYPES[path.extname(file)];
  if (!/^[a-z0-9.-]+$/i.test(file) || !type) return fail(404, `no console file ${file}`);
  if (buildError) return fail(503, `the console bundle failed to build: ${buildError}`);
  const full = path.join(CONSOLE_DIST, file);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(full);
  } catch {
    return fail(404, `no console file ${file} (run npm run build)`);
  }
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag });
    res.end();
    return true;
  }
  const body = readFileSync(full);
  res.writeHead(200, {
    ...headers,
    'content-type': type,
    'content-length': body.length,
    etag,
    'cache-control': 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
