/**
 * Hub commands for devices: `cg/v1/<district>/<gateway>/cmd/<name>` with a JSON body that
 * addresses one device, `{ "id": "...", "device": "<device id>", ...args }`, or every device of
 * some kinds and/or on some assets, `{ "id": "...", "kinds": ["flood"], "assets": ["UP-XH-001"],
 * ...args }` (both filters must match when both are given). Emergency modes use the second form:
 * `cmd/sample-interval` `{ "kinds": ["flood"], "interval": "5s" }`, then `{ ..., "interval": "default" }`.
 *
 * The handler validates the envelope and routes it to the agent, which hands it to each device's
 * driver; the result (or the error) goes back on `cmd-result` with the command's id. Addressed by
 * kind or asset, the result lists every device chosen with its own result or error, and the
 * command fails only when no device was chosen, or none of them took it.
 */
import { z } from 'zod';
import type { DeviceConfig } from '../../config/schema/gateway.js';
import type { DeviceCommandResult } from '../../drivers/sdk/driver.js';
import { describeError } from '../../drivers/sdk/errors.js';
import { idSchema } from '../../drivers/sdk/reading.js';
import type { Agent } from './agent.js';

const envelopeSchema = z
  .object({
    id: z.string().min(1).max(128).optional(),
    device: idSchema.optional(),
    kinds: z.array(z.string().min(1)).min(1).optional(),
    assets: z.array(idSchema).min(1).optional(),
  })
  .passthrough();

/** The devices a kind/asset selector picks, in config order. */
export function selectDevices(
  devices: readonly Pick<DeviceConfig, 'id' | 'kind' | 'asset'>[],
  sel: { kinds?: readonly string[] | undefined; assets?: readonly string[] | undefined },
): string[] {
  return devices
    .filter(
      (d) =>
        (!sel.kinds || sel.kinds.includes(d.kind)) &&
        (!sel.assets || (d.asset !== undefined && sel.assets.includes(d.asset))),
    )
    .map((d) => d.id);
}

export function deviceCommandHandler(
  agent: Pick<Agent, 'command'> & Partial<Pick<Agent, 'devices'>>,
  name: string,
): (payload: unknown) => Promise<DeviceCommandResult> {
  return async (payload) => {
    const parsed = envelopeSchema.safeParse(payload);
    const data = parsed.success ? parsed.data : undefined;
    if (!data || (data.device === undefined) === (data.kinds === undefined && data.assets === undefined))
      throw new TypeError(
        `"${name}" needs a JSON object with "device" (a device id), or "kinds" and/or "assets" (lists), and optional "id"`,
      );
    const { id, device, kinds, assets, ...args } = data;
    const cmd = (d: string) => agent.command(d, { name, ...(id ? { id } : {}), args });
    if (device !== undefined) return { device, ...(await cmd(device)) };
    const chosen = selectDevices(agent.devices?.() ?? [], { kinds, assets });
    if (chosen.length === 0)
      throw new TypeError(`no device on this gateway matches ${JSON.stringify({ kinds, assets })}`);
    const results = await Promise.all(
      chosen.map(async (d) => {
        try {
          return { device: d, ok: true, ...(await cmd(d)) };
        } catch (err) {
          return { device: d, ok: false, error: describeError(err) };
        }
      }),
    );
    if (!results.some((r) => r.ok))
      throw new TypeError(
        `no chosen device took "${name}": ${results.map((r) => `${r.device}: ${r.error}`).join('; ')}`,
      );
    return { devices: results };
  };
}
