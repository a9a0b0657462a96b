/**
 * The evidence and capture routes of the hub API:
 *
 *   GET  /api/evidence?device=&asset=&command=&limit=   evidence metadata, newest first
 *   GET  /api/evidence/<id>                             the bytes (content-type of the item, ETag = sha256)
 *   GET  /api/evidence/<id>/thumbnail                   the thumbnail JPEG
 *   POST /api/cameras/<device>/capture                  { preset?, mode: snapshot|clip, seconds? } -> 202 { commandId }
 *   POST /api/assets/<asset>/capture                    { mode? } -> 202 { commands: [{ device, commandId | error }] }:
 *                                                       every camera the city config names for the asset, at its preset
 *   GET  /api/commands/<id>                             a command's state, result and evidence ids
 *
 * Scope (auth/scope.ts): a district commander sees and asks evidence, cameras, assets and commands of
 * their district only (others are 404, as unknown); a unit handler opens evidence of the assets of
 * the cases dispatched to their unit.
 *
 * Errors are typed JSON `{ error, message }`: 404 unknown evidence/camera/command, 409 gateway
 * offline, 503 broker down, 400 a bad body.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { seesAll, seesDistrict } from '../auth/scope.js';
import type { ConsoleUser } from '../auth/users.js';
import { type CaptureCommands, CaptureError } from '../evidence/capture.js';
import type { EvidenceStore } from '../evidence/store.js';
import { userOf } from './guard.js';
import { allowMethods, readJson, type Send, type SendError } from './respond.js';

export interface EvidenceRouteDeps {
  store: EvidenceStore;
  capture: CaptureCommands;
  /** Where things are, to hold a user to their scope (auth/scope.ts). */
  scope: {
    /** The district of a gateway (evidence records name theirs). */
    gatewayDistrict(gateway: string): string | undefined;
    /** The district of a device (a camera) the hub knows. */
    deviceDistrict(device: string): string | undefined;
    /** The district of an asset of the city. */
    assetDistrict(asset: string): string | undefined;
    /** Assets of the cases a unit handler sees: the evidence they may open. */
    handlerAssets(user: ConsoleUser): Set<string>;
  };
}

/** Handles the route when it is one of these; returns false otherwise. */
export function handleEvidenceRoute(
  deps: EvidenceRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: string,
  send: { json: Send; error: SendError },
): boolean {
  const parts = route.split('/').slice(1).map(decodeURIComponent);
  const [api, what, id, sub, extra] = parts;
  if (api !== 'api' || extra !== undefined) return false;
  const method = req.method ?? 'GET';
  const only = (allowed: readonly string[]): boolean => allowMethods(req, res, route, allowed);
  if (what === 'evidence' && id === undefined) {
    if (!only(['GET', 'HEAD'])) return true;
    const q = url.searchParams;
    const limit = q.get('limit');
    const user = userOf(req);
    send.json(
      res,
      200,
      deps.store
        .list({
          device: q.get('device') ?? undefined,
          asset: q.get('asset') ?? undefined,
          command: q.get('command') ?? undefined,
          ...(limit ? { limit: Number(limit) || 100 } : {}),
        })
        .filter((e) => seesDistrict(user, deps.scope.gatewayDistrict(e.gateway))),
    );
    return true;
  }
  if (what === 'evidence' && id !== undefined && (sub === undefined || sub === 'thumbnail')) {
    if (!only(['GET', 'HEAD'])) return true;
    const user = userOf(req);
    const found = deps.store.get(id);
    // Outside the user's scope evidence is as unknown as missing evidence.
    const record =
      found &&
      (seesDistrict(user, deps.scope.gatewayDistrict(found.gateway)) ||
        (user.role === 'unit_handler' && found.asset !== undefined && deps.scope.handlerAssets(user).has(found.asset)))
        ? found
        : undefined;
    const objectId = sub === 'thumbnail' ? record?.thumbnailId : record?.id;
    if (!record || !objectId) {
      const what = sub === 'thumbnail' && record ? 'has no thumbnail' : 'is not stored';
      send.error(res, 404, 'unknown-evidence', `evidence ${id} ${what}`);
      return true;
    }
    const etag = `"${objectId}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag });
      res.end();
      return true;
    }
    const headers = {
      'content-type': sub === 'thumbnail' ? 'image/jpeg' : record.mediaType,
      etag,
      'cache-control': 'private, max-age=31536000, immutable',
    };
    const stream = createReadStream(deps.store.objectPath(objectId));
    stream.once('open', () => {
      res.writeHead(200, headers);
      if (method === 'HEAD') {
        stream.destroy();
        res.end();
      } else stream.pipe(res);
    });
    stream.once('error', () => {
      if (!res.headersSent) send.error(res, 404, 'unknown-evidence', `evidence ${id}: file missing`);
      else res.destroy();
    });
    return true;
  }
  if (what === 'commands' && id !== undefined && sub === undefined) {
    if (!only(['GET', 'HEAD'])) return true;
    const found = deps.capture.get(id);
    const view = found && seesDistrict(userOf(req), found.district) ? found : undefined;
    if (!view) send.error(res, 404, 'unknown-command', `no command ${id} (unknown, or forgotten since a restart)`);
    else send.json(res, 200, view);
    return true;
  }
  if (what === 'assets' && id !== undefined && sub === 'capture') {
    if (!only(['POST'])) return true;
    if (!seesDistrict(userOf(req), deps.scope.assetDistrict(id)) && !seesAll(userOf(req))) {
      send.error(res, 404, 'unknown-asset', `no asset ${id} in your district`);
      return true;
    }
    readJson(req).then(
      (body) => {
        const mode = (body as { mode?: unknown })?.mode === 'clip' ? 'clip' : 'snapshot';
        return deps.capture.requestCapture(id, mode).then(
          (sent) =>
            send.json(res, 202, {
              asset: id,
              commands: sent.map((s) => ({
                device: s.device,
                ...(s.command ? { commandId: s.command.id } : { error: s.error }),
              })),
            }),
          (err: unknown) => {
            if (err instanceof CaptureError) send.error(res, err.status, err.reason, err.message);
            else send.error(res, 500, 'internal', String(err));
          },
        );
      },
      (err: Error) => send.error(res, 400, 'bad-request', err.message),
    );
    return true;
  }
  if (what === 'cameras' && id !== undefined && sub === 'capture') {
    if (!only(['POST'])) return true;
    if (!seesDistrict(userOf(req), deps.scope.deviceDistrict(id)) && !seesAll(userOf(req))) {
      send.error(res, 404, 'unknown-camera', `no camera ${id} in your district`);
      return true;
    }
    readJson(req).then(
      (body) =>
        deps.capture.capture(id, body).then(
          (view) => send.json(res, 202, { commandId: view.id, gateway: view.gateway, state: view.state }),
          (err: unknown) => {
            if (err instanceof CaptureError) send.error(res, err.status, err.reason, err.message);
            else send.error(res, 500, 'internal', String(err));
          },
        ),
      (err: Error) => send.error(res, 400, 'bad-request', err.message),
    );
    return true;
  }
  return false;
}
