/** JSON responses of the hub API: one shape for every route, errors as `{ error, message }`. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, error: string, message: string): void {
  sendJson(res, status, { error, message });
}

export type Send = (res: ServerResponse, status: number, body: unknown) => void;
export type SendError = (res: ServerResponse, status: number, error: string, message: string) => void;

/**
 * True when the request's method is one of `allowed` (HEAD goes with GET); otherwise answers 405
 * with an `allow` header and returns false, so a route writes `if (!allowMethods(…)) return true`.
 */
export function allowMethods(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  allowed: readonly string[],
): boolean {
  const method = req.method ?? 'GET';
  const methods = allowed.includes('GET') && !allowed.includes('HEAD') ? [...allowed, 'HEAD'] : allowed;
  if (methods.includes(method)) return true;
  res.setHeader('allow', methods.join(', '));
  sendError(res, 405, 'method-not-allowed', `${method} is not allowed on ${route}`);
  return false;
}

const MAX_BODY = 16 * 1024;

/** The request's JSON body (at most 16 KiB; empty is `{}`). */
export function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error(`body larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new Error('body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}
