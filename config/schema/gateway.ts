import { z } from 'zod';
import { DEVICE_KINDS } from '../../drivers/sdk/reading.js';
import { duration, idSchema, logLevel, secret } from './common.js';

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)$/;
const SIZE_UNIT = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;

/** Parses "512MB", "64KiB", "2GB" or "1000B" into bytes; undefined when malformed. */
export function parseByteSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * SIZE_UNIT[m[2] as keyof typeof SIZE_UNIT]);
}

/** A size written as "512MB" / "64KiB" or as a number of bytes, parsed to bytes (at least 64 KiB). */
const byteSize = (description: string) =>
  z
    .union([
      z.number().int(),
      z
        .string()
        .regex(SIZE, 'a size such as "512MB", "64KiB", "2GB"')
        .transform((s) => parseByteSize(s) as number),
    ])
    .pipe(z.number().int().min(65_536, 'at least 64KiB'))
    .describe(description);

const serialTransport = z
  .object({
    type: z.literal('serial').describe('Serial line (RS-232 / RS-485 / USB serial / pty).'),
    path: z.string().min(1).describe('Device path, e.g. /dev/ttyUSB0 or a pty link.'),
    baudRate: z
      .number()
      .int()
      .positive()
      .default(9600)
      .describe('Baud rate. Default 9600 (NMEA receivers: 4800 or 9600).'),
    dataBits: z
      .union([z.literal(7), z.literal(8)])
      .default(8)
      .describe('Data bits. Default 8.'),
    parity: z.enum(['none', 'even', 'odd']).default('none').describe('Parity. Default none (CJ/T 188 meters: even).'),
    stopBits: z
      .union([z.literal(1), z.literal(2)])
      .default(1)
      .describe('Stop bits. Default 1.'),
    reopenDelay: duration('Wait before reopening a port that closed or failed to open. Default 2s.').prefault('2s'),
  })
  .strict();

const tcpTransport = z
  .object({
    type: z.literal('tcp').describe('TCP client connection (serial server, Modbus TCP gateway).'),
    host: z.string().min(1).describe('Host to connect to.'),
    port: z.number().int().min(1).max(65535).describe('TCP port.'),
    reopenDelay: duration('Wait before reconnecting. Default 2s.').prefault('2s'),
  })
  .strict();

export const transportSchema = z.discriminatedUnion('type', [serialTransport, tcpTransport]);
export type TransportConfig = z.output<typeof transportSchema>;

export const busConfigSchema = z
  .object({
    id: idSchema.describe('Bus id, unique on this gateway; devices name it in `bus`.'),
    transport: transportSchema.describe(
      'The line the devices share: an RS-485 port (CJ/T 188 meters: 2400 baud, even parity) or a serial server over TCP.',
    ),
    pollInterval: duration(
      'How often each device on the bus is read, from the start of one poll to the next (a device option may override it). Default 1m.',
    ).prefault('1m'),
    responseTimeout: duration(
      'Wait for an answer after the request has left the port; the time the request takes on the wire is added. Default 1s.',
    ).prefault('1s'),
    silence: duration(
      'Quiet line before every request, after the last byte sent or received. Default: 3.5 character times at the baud rate (Modbus t3.5), at least 20ms.',
    ).optional(),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe('Extra attempts after a timeout before the poll counts as failed. Default 2.'),
    offlineAfter: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Failed polls in a row before a device is reported offline. Default 3.'),
    backoffCap: duration(
      'A device that keeps failing is asked less and less often (each failed poll doubles the wait), down to once per this. Default 10m.',
    ).prefault('10m'),
  })
  .strict();
export type BusConfig = z.output<typeof busConfigSchema>;

export const serverConfigSchema = z
  .object({
    id: idSchema.describe('Server id, unique on this gateway; devices name it in `server`.'),
    protocol: z
      .literal('jt808')
      .describe('Protocol the terminals speak: "jt808" (JT/T 808-2013 and -2019 vehicle terminals).'),
    listen: z
      .object({
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe('Address to listen on; 0.0.0.0 for terminals on the mobile network. Default 127.0.0.1.'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(7808)
          .describe('TCP port the terminals dial (their server parameter 0x0018); 0 picks a free one. Default 7808.'),
      })
      .strict()
      .prefault({})
      .describe('Where the terminals connect.'),
    heartbeatIntervalS: z
      .number()
      .positive()
      .default(60)
      .describe(
        'Heartbeat interval the terminals are set to (terminal parameter 0x0001), seconds. Only used for the default heartbeat timeout. Default 60.',
      ),
    heartbeatTimeoutS: z
      .number()
      .positive()
      .optional()
      .describe(
        'An authenticated terminal that sends nothing (no heartbeat, no location) for this long is dropped and its vehicle reported offline, seconds. Default 3 × heartbeatIntervalS (the standard drops a terminal after 3 missed heartbeats).',
      ),
    authTimeoutS: z
      .number()
      .positive()
      .default(30)
      .describe(
        'A connection that has not authenticated (0x0102) this long after it opened is closed, seconds. Default 30.',
      ),
    maxConnections: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('Open connections at most; one more is closed at once and counted. Default 10000.'),
    maxBufferedBytes: z
      .number()
      .int()
      .min(4096)
      .default(65_536)
      .describe(
        'Bytes a connection may hold at most: an unfinished frame plus replies the terminal has not read yet. A connection over it is closed and counted. At least 4096 (a JT/T 808 frame is at most 2092 bytes escaped). Default 65536.',
      ),
    sweepIntervalS: z
      .number()
      .positive()
      .default(1)
      .describe(
        'How often one sweep checks every connection for the auth and heartbeat timeouts, seconds; a timeout takes effect up to this late. Default 1.',
      ),
  })
  .strict();
export type ServerConfig = z.output<typeof serverConfigSchema>;

/** The heartbeat timeout of a server, ms: configured, else 3 heartbeat intervals. */
export const heartbeatTimeoutMs = (s: ServerConfig): number => (s.heartbeatTimeoutS ?? 3 * s.heartbeatIntervalS) * 1000;

export const deviceConfigSchema = z
  .object({
    id: idSchema.describe('Device id, city-wide unique (e.g. "XH-GP001"); an InfluxDB tag.'),
    kind: z.enum(DEVICE_KINDS).describe('Kind of device; the InfluxDB measurement.'),
    driver: z.string().min(1).describe('Driver id from the registry (e.g. "nmea-gps").'),
    asset: idSchema.optional().describe('City asset the device is mounted on.'),
    transport: transportSchema
      .optional()
      .describe('How the gateway reaches a device that has a line of its own (stream drivers).'),
    bus: idSchema
      .optional()
      .describe(
        'Id of the entry in `buses` the device sits on (meters and loggers polled in turn). Give this or `transport`.',
      ),
    server: idSchema
      .optional()
      .describe(
        'Id of the entry in `servers` the device connects to (a JT/T 808 vehicle terminal). Give this, not `transport` or `bus`.',
      ),
    options: z.record(z.string(), z.unknown()).default({}).describe('Driver options, validated by the driver schema.'),
  })
  .strict();
export type DeviceConfig = z.output<typeof deviceConfigSchema>;

export const gatewayConfigSchema = z
  .object({
    $schema: z.string().optional().describe('Editor hint, ignored.'),
    gateway: z
      .object({
        id: idSchema.describe('Gateway id; MQTT username and topic segment.'),
        district: idSchema.describe('District the gateway serves; topic segment.'),
      })
      .strict()
      .describe('Who this gateway is: its id and district (the MQTT topic prefix cg/v1/<district>/<id>/).'),
    hub: z
      .object({
        url: z
          .string()
          .regex(/^(mqtts?|wss?|tcp):\/\//, 'an MQTT URL such as mqtt://127.0.0.1:1883')
          .describe('MQTT URL of the hub broker.'),
        password: secret('Gateway password on the hub broker. Write ${ENV_VAR}.'),
        keepalive: z.number().int().positive().default(30).describe('MQTT keepalive, seconds. Default 30.'),
        reconnectPeriod: duration('Wait between reconnect attempts. Default 1s.').prefault('1s'),
        healthInterval: duration(
          'How often the gateway reports its outbox backlog and devices online to the hub (.../health; also on every connect). Default 10s.',
        ).prefault('10s'),
      })
      .strict()
      .describe('How to reach the hub broker.'),
    dataDir: z
      .string()
      .default('./var/edge')
      .describe('Directory for the gateway state (relative to the config file).'),
    logLevel,
    batch: z
      .object({
        maxReadings: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(500)
          .describe(
            'Readings (or events) per uplink message at most; backlog replayed after an outage goes in messages of this size. Default 500.',
          ),
        maxDelay: duration(
          'How long a live reading may wait in the outbox for others to share its message. Default 200ms.',
        ).prefault('200ms'),
      })
      .strict()
      .prefault({}),
    delivery: z
      .object({
        resendAfter: duration('Resend messages the hub has not acknowledged after this long. Default 10s.').prefault(
          '10s',
        ),
        maxInFlight: z
          .number()
          .int()
          .min(1)
          .default(200)
          .describe('Unacknowledged messages on the wire at most. Default 200.'),
        backlogInFlight: z
          .number()
          .int()
          .min(1)
          .default(8)
          .describe(
            'Backlog messages (readings taken while the link was down, replayed in messages of batch.maxReadings) on the wire at most. Enough to keep the hub busy, few enough that live readings and events are not queued behind the backlog at the broker or the hub; the rest of maxInFlight is theirs. Default 8.',
          ),
        quota: byteSize(
          'Disk the outbox (outbox.db in dataDir) may use for readings, events and evidence not yet acknowledged by the hub, e.g. "512MB", "2GB" or a number of bytes. Near it the oldest telemetry is compacted (per device and field: min, max, mean, last, count per window), and only dropped when compaction cannot make room; then the oldest evidence; events go last. Default 512MB.',
        ).prefault('512MB'),
        compactWindows: z
          .array(duration('A compaction window.'))
          .min(1)
          .prefault(['1m', '15m', '1h'])
          .transform((list) => [...list].sort((a, b) => a - b))
          .describe(
            'Windows of the compaction steps, finest first: the oldest telemetry is summarised per window of the first size, then coarsened to the next. Default ["1m", "15m", "1h"].',
          ),
        maxEvidenceBytes: byteSize(
          'Largest evidence item (a camera snapshot or clip, data and thumbnail together) the outbox takes, e.g. "16MB". Items above 4032KiB travel as parts of one MQTT message each (the hub accepts 4 MiB per message) and are assembled at the hub. Larger items are refused with an evidence-too-large error and counted in citygrid_edge_evidence_refused_total. At most 256MiB. Default 16MiB.',
        )
          .pipe(z.number().max(256 * 1024 * 1024, 'at most 256MiB'))
          .prefault('16MiB'),
        commitInterval: duration(
          'Group commit: readings and events are written to disk (fsync) together at most this long after they arrive; only then are they taken. Default 5ms.',
        ).prefault('5ms'),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        host: z.string().default('127.0.0.1').describe('Bind address of the health endpoint. Default 127.0.0.1.'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(0)
          .describe('Port of /healthz and /metrics; 0 = off. Default 0.'),
      })
      .strict()
      .prefault({})
      .describe('Local health endpoint of the agent (/healthz, /metrics).'),
    discovery: z
      .object({
        onvif: z
          .object({
            enabled: z
              .boolean()
              .default(false)
              .describe(
                "Multicast WS-Discovery probes on the gateway's network and raise a camera.discovered Event for every ONVIF camera found (new, or at a new address). Default false.",
              ),
            interval: duration('Time between probes. Default 5m.').prefault('5m'),
            timeout: duration('How long each probe listens for answers. Default 3s.').prefault('3s'),
          })
          .strict()
          .prefault({})
          .describe('ONVIF cameras (WS-Discovery, UDP 239.255.255.250:3702).'),
      })
      .strict()
      .prefault({})
      .describe("Finding devices on the gateway's network that nobody configured yet. Off by default."),
    buses: z
      .array(busConfigSchema)
      .default([])
      .describe('Shared lines (RS-485) whose devices are polled one at a time by one bus poller each.'),
    servers: z
      .array(serverConfigSchema)
      .default([])
      .describe(
        'Listeners the gateway runs for devices that connect to it (JT/T 808 vehicle terminals), one per entry, each serving many devices.',
      ),
    devices: z.array(deviceConfigSchema).default([]).describe('Field devices this gateway reads.'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.devices.forEach((d, i) => {
      if (seen.has(d.id))
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: `duplicate device id "${d.id}"` });
      seen.add(d.id);
    });
    const buses = new Set<string>();
    cfg.buses.forEach((b, i) => {
      if (buses.has(b.id))
        ctx.addIssue({ code: 'custom', path: ['buses', i, 'id'], message: `duplicate bus id "${b.id}"` });
      buses.add(b.id);
    });
    const servers = new Set<string>();
    const listens = new Set<string>();
    cfg.servers.forEach((s, i) => {
      if (servers.has(s.id))
        ctx.addIssue({ code: 'custom', path: ['servers', i, 'id'], message: `duplicate server id "${s.id}"` });
      servers.add(s.id);
      const at = `${s.listen.host}:${s.listen.port}`;
      if (s.listen.port !== 0 && listens.has(at))
        ctx.addIssue({
          code: 'custom',
          path: ['servers', i, 'listen'],
          message: `${at} is already the address of another server`,
        });
      listens.add(at);
    });
    cfg.devices.forEach((d, i) => {
      if (d.server === undefined) return;
      if (d.transport !== undefined || d.bus !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, d.transport !== undefined ? 'transport' : 'bus'],
          message: `a device that connects to server "${d.server}" has no ${d.transport !== undefined ? 'transport' : 'bus'}: remove it`,
        });
      else if (!servers.has(d.server))
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'server'],
          message: `no server "${d.server}" in servers; known: ${[...servers].join(', ') || '(none)'}`,
        });
    });
    cfg.devices.forEach((d, i) => {
      // which one a driver needs (or neither, for network devices) is checked against the driver
      if (d.transport !== undefined && d.bus !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i],
          message: 'give "transport" (a line of its own) or "bus" (the id of an entry in buses), not both',
        });
      else if (d.bus !== undefined && !buses.has(d.bus))
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'bus'],
          message: `no bus "${d.bus}" in buses; known: ${[...buses].join(', ') || '(none)'}`,
        });
    });
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
