import { z } from 'zod';
import { DEVICE_KINDS } from '../../drivers/sdk/reading.js';
import { duration, idSchema, logLevel, secret } from './common.js';

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

export const deviceConfigSchema = z
  .object({
    id: idSchema.describe('Device id, city-wide unique (e.g. "XH-GP001"); an InfluxDB tag.'),
    kind: z.enum(DEVICE_KINDS).describe('Kind of device; the InfluxDB measurement.'),
    driver: z.string().min(1).describe('Driver id from the registry (e.g. "nmea-gps").'),
    asset: idSchema.optional().describe('City asset the device is mounted on.'),
    transport: transportSchema.describe('How the gateway reaches the device.'),
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
          .describe('Readings per telemetry message at most. Default 500.'),
        maxDelay: duration('How long a reading may wait for its batch to fill. Default 200ms.').prefault('200ms'),
      })
      .strict()
      .prefault({})
      .describe('How readings are grouped into telemetry messages.'),
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
        maxQueued: z
          .number()
          .int()
          .min(100)
          .default(1_000_000)
          .describe(
            'Messages held for the hub at most (memory outbox). Beyond it the oldest telemetry is dropped and counted. Default 1000000.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Delivery to the hub: resends, in-flight window, outbox bound.'),
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
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
