import { z } from 'zod';
import { duration, idSchema, logLevel, secret } from './common.js';
import { fleetJudgingSchema } from './fleet-judging.js';
import { parseByteSize } from './gateway.js';
import { incidentsConfigSchema } from './incidents.js';

const account = z
  .object({
    password: secret('Password. Write ${ENV_VAR}; or give passwordHash.').optional(),
    passwordHash: z
      .string()
      .regex(/^scrypt\$[0-9a-f]+\$[0-9a-f]+$/, 'scrypt$<salt hex>$<key hex> (see `citygrid hash-password`)')
      .optional()
      .describe('scrypt hash of the password instead of the password itself.'),
  })
  .strict();

const gatewayAccount = account
  .extend({ id: idSchema.describe('Gateway id (MQTT username); must be in the city config.') })
  .strict()
  .refine((a) => a.password !== undefined || a.passwordHash !== undefined, {
    message: 'password or passwordHash is required',
  });

const readerAccount = account
  .extend({
    username: idSchema.describe('Username of a read-only integrator (may subscribe to cg/v1/#, publish nothing).'),
  })
  .strict()
  .refine((a) => a.password !== undefined || a.passwordHash !== undefined, {
    message: 'password or passwordHash is required',
  });

const embeddedBroker = z
  .object({
    mode: z.literal('embedded').describe('Run aedes inside the hub (default).'),
    host: z.string().default('127.0.0.1').describe('Bind address. Default 127.0.0.1.'),
    port: z.number().int().min(0).max(65535).default(1883).describe('MQTT port; 0 picks a free one. Default 1883.'),
    maxPayloadBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024)
      .describe('Largest uplink accepted. Default 4 MiB.'),
  })
  .strict();

const externalBroker = z
  .object({
    mode: z
      .literal('external')
      .describe('Use an external broker; the hub connects as a client and the broker enforces ACLs.'),
    url: z
      .string()
      .regex(/^(mqtts?|wss?|tcp):\/\//, 'an MQTT URL')
      .describe('URL of the external broker (Mosquitto, EMQX).'),
    username: z.string().optional().describe('Hub account on the broker.'),
    password: secret('Hub password on the broker. Write ${ENV_VAR}.').optional(),
    clientId: z.string().default('citygrid-hub').describe('MQTT client id (persistent session). Default citygrid-hub.'),
  })
  .strict();

const influx = z
  .object({
    url: z.string().url().describe('InfluxDB 1.x base URL, e.g. http://127.0.0.1:8086.'),
    database: z.string().min(1).default('citygrid').describe('Database; created when missing. Default citygrid.'),
    retentionPolicy: z
      .string()
      .optional()
      .describe('Retention policy to write into; the database default when omitted.'),
    username: z.string().optional().describe('InfluxDB user.'),
    password: secret('InfluxDB password. Write ${ENV_VAR}.').optional(),
    batchSize: z.number().int().min(1).max(50_000).default(5000).describe('Points per write at most. Default 5000.'),
    flushInterval: duration('Longest a point waits for its batch. Default 100ms.').prefault('100ms'),
    maxInFlight: z.number().int().min(1).max(16).default(2).describe('Concurrent writes. Default 2.'),
  })
  .strict();

export const WEBHOOK_EVENTS = ['dispatched', 'overdue', 'closed'] as const;

const webhook = z
  .object({
    url: z.string().url().describe('Where notifications are POSTed (JSON { id, event, caseId, case, at }).'),
    secret: secret(
      'HMAC-SHA256 key: the body is signed in the header X-Citygrid-Signature: sha256=<hex>. Write ${ENV_VAR}.',
    ),
    events: z
      .array(z.enum(WEBHOOK_EVENTS))
      .min(1)
      .default([...WEBHOOK_EVENTS])
      .describe(
        'Events sent: dispatched (派遣), overdue (a stage past its deadline), closed (结案 or not filed). Default all.',
      ),
  })
  .strict();

/** Roles of console users: the case model's roles without `system` (the hub itself). */
export const CONSOLE_ROLES = ['city_supervisor', 'district_commander', 'unit_handler'] as const;

const consoleUser = z
  .object({
    id: idSchema.describe('Login name; recorded as the actor of what the user does.'),
    name: z.string().min(1).optional().describe('Display name. Default the id.'),
    role: z
      .enum(CONSOLE_ROLES)
      .describe(
        'city_supervisor (监督中心: sees and does everything), district_commander (指挥中心 of one district: needs district), unit_handler (a responsible unit: needs unit).',
      ),
    district: idSchema.optional().describe('District of a district_commander; must be in the city config.'),
    unit: idSchema.optional().describe('Unit of a unit_handler; must be in the city config.'),
    passwordHash: z
      .string()
      .regex(/^scrypt\$[0-9a-f]+\$[0-9a-f]+$/, 'scrypt$<salt hex>$<key hex> (see `citygrid hash-password`)')
      .describe('scrypt hash of the password (`citygrid hash-password`); write ${ENV_VAR} to keep it out of the file.'),
  })
  .strict()
  .refine((u) => u.role !== 'district_commander' || u.district !== undefined, {
    message: 'a district_commander needs a district',
    path: ['district'],
  })
  .refine((u) => u.role !== 'unit_handler' || u.unit !== undefined, {
    message: 'a unit_handler needs a unit',
    path: ['unit'],
  });

export const hubConfigSchema = z
  .object({
    $schema: z.string().optional().describe('Editor hint, ignored.'),
    hubId: idSchema.default('hub').describe('Hub id, in logs and metrics. Default hub.'),
    city: z.string().describe('Path of the city config (relative to this file).'),
    dataDir: z
      .string()
      .default('./var/hub')
      .describe('Directory for the hub state (relative to this file). Default ./var/hub.'),
    logLevel,
    mqtt: z
      .discriminatedUnion('mode', [embeddedBroker, externalBroker])
      .prefault({ mode: 'embedded' })
      .describe('The broker: embedded aedes (default) or an external broker by URL.'),
    http: z
      .object({
        host: z.string().default('127.0.0.1').describe('Bind address. Default 127.0.0.1.'),
        port: z.number().int().min(0).max(65535).default(8080).describe('HTTP port; 0 picks a free one. Default 8080.'),
      })
      .strict()
      .prefault({})
      .describe('The HTTP API (/api/..., /metrics, /healthz) and console.'),
    console: z
      .object({
        users: z
          .array(consoleUser)
          .default([])
          .describe('Who may use the console and /api/* (every route but /api/login needs a session). Default none.'),
        sessionTtlMinutes: z
          .number()
          .int()
          .min(1)
          .max(7 * 24 * 60)
          .default(480)
          .describe(
            'Lifetime of a session from its login, in minutes (absolute, not extended by use: one shift). Default 480.',
          ),
        loginAttemptsPerMinute: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(5)
          .describe(
            'Failed logins allowed per username and per client address in any minute; more are refused with 429 without checking the password. Default 5.',
          ),
        tileUrl: z
          .string()
          .regex(/^https?:\/\/[^\s"<>]+$/, 'an http(s) URL template such as https://tiles.example/{z}/{x}/{y}.png')
          .optional()
          .describe(
            'Base-map tile URL template ({z}/{x}/{y}) for the console map, e.g. a tile server inside the closed network. Default none: the map shows only the city config geometry.',
          ),
      })
      .strict()
      .prefault({})
      .describe(
        'The operator console served at / (map, telemetry, cases, gateways): its users, sessions and map tiles.',
      ),
    accounts: z
      .object({
        gateways: z.array(gatewayAccount).default([]).describe('One MQTT account per gateway.'),
        readers: z.array(readerAccount).default([]).describe('Read-only MQTT accounts for integrators.'),
      })
      .strict()
      .prefault({})
      .describe('MQTT accounts of the embedded broker.'),
    telemetry: z
      .object({
        influx: influx
          .optional()
          .describe('Write telemetry to InfluxDB 1.x. When omitted, the embedded store in dataDir is used.'),
        spool: z
          .object({
            maxBytes: z
              .union([
                z.number().int(),
                z
                  .string()
                  .refine((s) => parseByteSize(s) !== undefined, 'a size such as "512MB", "64KiB", "2GB"')
                  .transform((s) => parseByteSize(s) as number),
              ])
              .pipe(z.number().int().min(65_536, 'at least 64KiB'))
              .prefault(2e9)
              .describe(
                'Disk the InfluxDB spool (telemetry-spool.db in dataDir) may use for batches InfluxDB could not take (down, 5xx, timeouts, slow): they are acknowledged once spooled and replayed oldest first when InfluxDB answers again. At the bound the hub stops acknowledging uplinks (the edges keep their outboxes); nothing is dropped. E.g. "2GB" or a number of bytes. Default 2GB.',
              ),
            slowWrite: duration(
              'An InfluxDB write still unanswered after this long is spooled (and acknowledged) instead of waited for. Default 2s.',
            ).prefault('2s'),
          })
          .strict()
          .prefault({})
          .describe('Disk spool of the InfluxDB sink (unused with the embedded store, which is on disk already).'),
      })
      .strict()
      .prefault({})
      .describe('Where telemetry is stored.'),
    cases: z
      .object({
        webhooks: z
          .array(webhook)
          .default([])
          .describe(
            'Signed webhooks on case dispatch, overdue and close: written to cases.db with the case change, retried with capped exponential backoff until a 2xx (also after a restart). Default none.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Case notifications.'),
    incidents: incidentsConfigSchema,
    fleet: fleetJudgingSchema
      .prefault({})
      .describe(
        'How the fleet’s work is judged: coverage of assigned road segments, dwell, off-route, speeding (roads and vehicles are in the city config).',
      ),
  })
  .strict();

export type HubConfig = z.output<typeof hubConfigSchema>;
export type WebhookConfig = z.output<typeof webhook>;
export type ConsoleUserConfig = z.output<typeof consoleUser>;
export type ConsoleConfig = HubConfig['console'];
export type InfluxConfig = z.output<typeof influx>;
