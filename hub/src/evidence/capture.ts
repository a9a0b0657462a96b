/**
 * Capture commands (联动): the hub asks a camera for evidence. `capture(device, …)` finds the
 * gateway whose retained birth inventory lists the device, publishes `cmd/capture`
 * `{ id, device, preset?, mode, seconds? }` to it with a new command id, and tracks the command:
 * `sent`, then the result from `cmd-result` (ok or error), and the evidence ids stored with that
 * command id. `requestCapture(asset)` fans out to the cameras the city config names for an asset,
 * each at its preset (the case work calls it when a case opens).
 *
 * Commands are tracked in memory (the last MAX_TRACKED): a hub restart forgets their state, not the
 * evidence, which the store indexes by command id.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CityConfig } from '../../../config/schema/city.js';
import { CitygridError } from '../../../drivers/sdk/errors.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { parseTopic, topics } from '../../../drivers/sdk/wire.js';
import type { BrokerLink } from '../broker/link.js';
import type { GatewayRegistry } from '../ingest/gateways.js';

export type CaptureErrorCode = 'bad-request' | 'unknown-camera' | 'unknown-asset' | 'gateway-offline' | 'broker-down';

const STATUS: Record<CaptureErrorCode, number> = {
  'bad-request': 400,
  'unknown-camera': 404,
  'unknown-asset': 404,
  'gateway-offline': 409,
  'broker-down': 503,
};

/** A capture the hub cannot send; `status` is the HTTP status the API answers with. */
export class CaptureError extends CitygridError {
  readonly status: number;
  constructor(
    readonly reason: CaptureErrorCode,
    message: string,
  ) {
    super(reason, message);
    this.name = 'CaptureError';
    this.status = STATUS[reason];
  }
}

export const captureArgsSchema = z
  .object({
    preset: z.string().min(1).max(64).optional(),
    mode: z.enum(['snapshot', 'clip']).default('snapshot'),
    seconds: z.number().positive().max(120).optional(),
  })
  .strict();
export type CaptureArgs = z.infer<typeof captureArgsSchema>;

export interface CommandView {
  id: string;
  name: 'capture';
  device: string;
  gateway: string;
  district: string;
  args: CaptureArgs;
  state: 'sent' | 'ok' | 'error';
  /** Hub clock, ms. */
  sentAt: number;
  resultAt?: number;
  /** What the driver answered (ok), without id/name/ok. */
  result?: Record<string, unknown>;
  error?: string;
  /** Ids of evidence stored with this command id, in arrival order. */
  evidence: string[];
}

const MAX_TRACKED = 1000;

export interface CaptureOptions {
  link: BrokerLink;
  registry: GatewayRegistry;
  city: Pick<CityConfig, 'assets'>;
  log: Logger;
  metrics: MetricsRegistry;
  now?: () => number;
}

export class CaptureCommands {
  private readonly commands = new Map<string, CommandView>();
  private readonly now: () => number;
  private readonly sent;
  private readonly results;

  constructor(private readonly o: CaptureOptions) {
    this.now = o.now ?? Date.now;
    this.sent = o.metrics.counter('citygrid_hub_capture_commands_total', 'Capture commands sent to gateways.');
    this.results = o.metrics.counter(
      'citygrid_hub_capture_results_total',
      'Capture command results received on cmd-result, by outcome (ok, error).',
    );
  }

  /** Subscribes to the gateways' command results. */
  async start(): Promise<void> {
    await this.o.link.subscribe(topics.uplinkFilter('cmd-result'), (topic, payload) => this.onResult(topic, payload));
  }

  /** Sends a capture to the gateway that has `device`. Throws CaptureError. */
  async capture(device: string, rawArgs: unknown): Promise<CommandView> {
    const parsed = captureArgsSchema.safeParse(rawArgs ?? {});
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new CaptureError('bad-request', `${first?.path.join('.') || '(body)'}: ${first?.message ?? 'invalid'}`);
    }
    const gateway = this.o.registry.listGateways().find((g) => g.devices.some((d) => d.id === device));
    if (!gateway) throw new CaptureError('unknown-camera', `no online gateway's inventory lists device "${device}"`);
    if (!gateway.online) throw new CaptureError('gateway-offline', `gateway ${gateway.id} of "${device}" is offline`);
    if (!this.o.link.connected()) throw new CaptureError('broker-down', 'the hub is not connected to its broker');
    const id = randomUUID();
    const args = parsed.data;
    const view: CommandView = {
      id,
      name: 'capture',
      device,
      gateway: gateway.id,
      district: gateway.district,
      args,
      state: 'sent',
      sentAt: this.now(),
      evidence: [],
    };
    this.track(view);
    await this.o.link.publish(
      topics.cmd({ district: gateway.district, gateway: gateway.id }, 'capture'),
      JSON.stringify({ id, device, ...args }),
      { qos: 1 },
    );
    this.sent.inc();
    this.o.log.info({ commandId: id, device, gateway: gateway.id, ...args }, 'Capture requested');
    return view;
  }

  /** Asks every camera the city config names for `asset` for evidence at its preset. */
  async requestCapture(
    asset: string,
    mode: CaptureArgs['mode'] = 'snapshot',
  ): Promise<{ device: string; command?: CommandView; error?: string }[]> {
    const entry = this.o.city.assets.find((a) => a.id === asset);
    if (!entry) throw new CaptureError('unknown-asset', `no asset "${asset}" in the city config`);
    return Promise.all(
      (entry.cameras ?? []).map(async ({ device, preset }) => {
        try {
          return { device, command: await this.capture(device, { mode, ...(preset ? { preset } : {}) }) };
        } catch (err) {
          if (!(err instanceof CaptureError)) throw err;
          this.o.log.warn({ asset, device, reason: err.reason }, `Capture for asset not sent: ${err.message}`);
          return { device, error: `${err.reason}: ${err.message}` };
        }
      }),
    );
  }

  get(id: string): CommandView | undefined {
    return this.commands.get(id);
  }

  /** The store has evidence carrying `commandId`. */
  evidenceArrived(commandId: string, evidenceId: string): void {
    const view = this.commands.get(commandId);
    if (view && !view.evidence.includes(evidenceId)) view.evidence.push(evidenceId);
  }

  private track(view: CommandView): void {
    this.commands.set(view.id, view);
    if (this.commands.size > MAX_TRACKED) {
      const oldest = this.commands.keys().next().value as string;
      this.commands.delete(oldest);
    }
  }

  private onResult(topic: string, payload: Buffer): void {
    const origin = parseTopic(topic);
    let body: { id?: unknown; name?: unknown; ok?: unknown; error?: unknown } & Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.o.log.warn({ topic }, 'Command result with malformed JSON ignored');
      return;
    }
    const view = typeof body?.id === 'string' ? this.commands.get(body.id) : undefined;
    if (!view || origin?.type !== 'uplink' || origin.gateway !== view.gateway) return;
    const { id: _id, name: _name, ok, error, ...result } = body;
    view.resultAt = this.now();
    if (ok === true) {
      view.state = 'ok';
      view.result = result;
    } else {
      view.state = 'error';
      view.error = typeof error === 'string' ? error : 'failed';
    }
    this.results.inc({ outcome: view.state });
    this.o.log.info(
      { commandId: view.id, device: view.device, state: view.state, error: view.error },
      'Capture result',
    );
  }
}
