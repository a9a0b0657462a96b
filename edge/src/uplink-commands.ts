/**
 * Commands from the hub other than `ack` (which settles the outbox, uplink.ts): a name -> handler
 * table. Every command gets one result on `cmd-result`, echoing its `id`; an unknown name or a
 * handler that throws gets `ok: false` and the reason.
 */
import { describeError } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';

/** A command from the hub; the result is published on `cmd-result`. */
export type CommandHandler = (payload: unknown) => Promise<Record<string, unknown>>;

export class CommandRouter {
  /** Adding a command is adding an entry. */
  private readonly handlers = new Map<string, CommandHandler>();
  private readonly unknown;

  constructor(
    metrics: MetricsRegistry,
    private readonly log: Logger,
  ) {
    this.unknown = metrics.counter('citygrid_edge_commands_unknown_total', 'Commands received that have no handler.');
  }

  register(name: string, handler: CommandHandler): void {
    this.handlers.set(name, handler);
  }

  /** Runs command `name`; `publish` gets the result message (it drops it when the link is down). */
  handle(name: string, body: unknown, publish: (result: Record<string, unknown>) => void): void {
    const id = typeof (body as { id?: unknown })?.id === 'string' ? (body as { id: string }).id : undefined;
    const handler = this.handlers.get(name);
    const reply = (result: Record<string, unknown>) => publish({ ...(id ? { id } : {}), name, ...result });
    if (!handler) {
      this.unknown.inc();
      this.log.debug({ command: name }, 'Unknown command');
      reply({ ok: false, error: 'unknown command' });
      return;
    }
    handler(body).then(
      (result) => reply({ ok: true, ...result }),
      (err: unknown) => reply({ ok: false, error: describeError(err) }),
    );
  }
}
