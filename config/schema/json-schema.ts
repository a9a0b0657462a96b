import { z } from 'zod';
import { cityConfigSchema } from './city.js';
import { gatewayConfigSchema } from './gateway.js';
import { hubConfigSchema } from './hub.js';

/** JSON Schemas of the config files (for editors and docs), generated from the zod schemas. */
export function jsonSchemas(): Record<'city' | 'gateway' | 'hub', unknown> {
  const opts = { io: 'input', unrepresentable: 'any' } as const;
  return {
    city: z.toJSONSchema(cityConfigSchema, opts),
    gateway: z.toJSONSchema(gatewayConfigSchema, opts),
    hub: z.toJSONSchema(hubConfigSchema, opts),
  };
}
