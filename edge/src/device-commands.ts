/**
 * Hub commands for one device: `cg/v1/<district>/<gateway>/cmd/<name>` with a JSON body
 * `{ "id": "...", "device": "<device id>", ...args }`. The handler validates the envelope and
 * routes it to the agent, which hands it to the device's driver; the result (or the error) goes
 * back on `cmd-result` with the command's id.
 */
import { z } from 'zod';
import type { DeviceCommandResult } from '../../drivers/sdk/driver.js';
import { idSchema } from '../../drivers/sdk/reading.js';
import type { Agent } from './agent.js';

const envelopeSchema = z.object({ id: z.string().min(1).max(128).optional(), device: idSchema }).passthrough();

export function deviceCommandHandler(
  agent: Pick<Agent, 'command'>,
  name: string,
): (payload: unknown) => Promise<DeviceCommandResult> {
  return async (payload) => {
    const parsed = envelopeSchema.safeParse(payload);
    if (!parsed.success)
      throw new TypeError(`"${name}" needs a JSON object with "device" (a device id) and optional "id"`);
    const { id, device, ...args } = parsed.data;
    const result = await agent.command(device, { name, ...(id ? { id } : {}), args });
    return { device, ...result };
  };
}
