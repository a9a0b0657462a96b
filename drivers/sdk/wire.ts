/**
 * The one place MQTT topics and payload envelopes are defined (DESIGN §4.2). The edge publisher,
 * the hub ingest, the broker ACL and the simulators all build and parse topics through here.
 */
import { z } from 'zod';
import { eventSchema, idSchema, readingSchema } from './reading.js';

export const TOPIC_ROOT = 'cg/v1';

export type UplinkChannel = 'state' | 'telemetry' | 'event' | 'media' | 'cmd-result' | 'health';
export const UPLINK_CHANNELS: readonly UplinkChannel[] = [
  'state',
  'telemetry',
  'event',
  'media',
  'cmd-result',
  'health',
];

export interface GatewayAddress {
  district: string;
  gateway: string;
}

export const topics = {
  prefix: (a: GatewayAddress) => `${TOPIC_ROOT}/${a.district}/${a.gateway}/`,
  state: (a: GatewayAddress) => `${TOPIC_ROOT}/${a.district}/${a.gateway}/state`,
  telemetry: (a: GatewayAddress) => `${TOPIC_ROOT}/${a.district}/${a.gateway}/telemetry`,
  event: (a: GatewayAddress) => `${TOPIC_ROOT}/${a.district}/${a.gateway}/event`,
  media: (a: GatewayAddress) => `${TOPIC_ROOT}/${a.district}/${a.gateway}/media`,
  cmd: (a: GatewayAddress, name: string) => `${TOPIC_ROOT}/${a.district}/${a.gateway}/cmd/${name}`,
  cmdResult: (a: GatewayAddress) => `${TOPIC_ROOT}/${a.district}/${a.gateway}/cmd-result`,
  health: (a: GatewayAddress) => `${TOPIC_ROOT}/${a.district}/${a.gateway}/health`,
  /** What a gateway subscribes to: its own commands, nothing else. */
  cmdFilter: (a: GatewayAddress) => `${TOPIC_ROOT}/${a.district}/${a.gateway}/cmd/#`,
  /** What the hub subscribes to. */
  uplinkFilter: (channel: UplinkChannel) => `${TOPIC_ROOT}/+/+/${channel}`,
  all: `${TOPIC_ROOT}/#`,
} as const;

export type ParsedTopic =
  | { type: 'uplink'; district: string; gateway: string; channel: UplinkChannel }
  | { type: 'cmd'; district: string; gateway: string; name: string };

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Parses a concrete (wildcard-free) topic; undefined when it is not one of ours. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length < 5 || parts[0] !== 'cg' || parts[1] !== 'v1') return undefined;
  const [, , district, gateway, channel, name, ...rest] = parts;
  if (!district || !gateway || !SEGMENT.test(district) || !SEGMENT.test(gateway)) return undefined;
  if (channel === 'cmd' && name && rest.length === 0 && SEGMENT.test(name))
    return { type: 'cmd', district, gateway, name };
  if (name !== undefined) return undefined;
  if ((UPLINK_CHANNELS as readonly string[]).includes(channel ?? '')) {
    return { type: 'uplink', district, gateway, channel: channel as UplinkChannel };
  }
  return undefined;
}

/**
 * Fields every uplink message carries. `seq` numbers all uplink messages of one gateway boot in one
 * space (telemetry, events, media together), starting at 0. `firstUnacked` is the lowest seq the
 * gateway still holds: everything below it is settled, so the hub may move its contiguous mark up
 * to it even if it never saw those messages (an edge whose disk was replaced, a hub that lost state).
 */
const uplinkHeader = {
  v: z.literal(1).optional(),
  gateway: idSchema,
  bootId: z.string().min(1).max(64),
  seq: z.number().int().nonnegative(),
  firstUnacked: z.number().int().nonnegative().optional(),
  /** ms since epoch, gateway clock, when the message was first put on the wire. */
  sentAt: z.number().int().positive().optional(),
};

export const telemetryEnvelopeSchema = z.object({
  ...uplinkHeader,
  readings: z.array(readingSchema).min(1).max(10_000),
});
export type TelemetryEnvelope = z.infer<typeof telemetryEnvelopeSchema>;

export const eventEnvelopeSchema = z.object({ ...uplinkHeader, events: z.array(eventSchema).min(1).max(10_000) });
export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;

export const deviceInventoryItemSchema = z.object({
  id: idSchema,
  kind: z.string(),
  driver: z.string(),
  asset: idSchema.optional(),
  online: z.boolean().optional(),
});
export type DeviceInventoryItem = z.infer<typeof deviceInventoryItemSchema>;

/** Retained on `.../state`. The broker publishes the offline variant as the gateway's last will. */
export const stateMessageSchema = z.object({
  v: z.literal(1).optional(),
  gateway: idSchema,
  state: z.enum(['online', 'offline']),
  bootId: z.string().optional(),
  ts: z.number().int().positive(),
  version: z.string().optional(),
  devices: z.array(deviceInventoryItemSchema).optional(),
});
export type StateMessage = z.infer<typeof stateMessageSchema>;

/**
 * Retained, QoS 0, on `.../health`: what the gateway holds for the hub, sent on connect and then
 * every `hub.healthInterval`, so the console shows the outbox backlog draining after an outage.
 */
export const healthMessageSchema = z.object({
  v: z.literal(1).optional(),
  gateway: idSchema,
  bootId: z.string().optional(),
  ts: z.number().int().positive(),
  outbox: z.object({
    /** Readings and events taken and not yet acknowledged by the hub. */
    items: z.number().int().min(0),
    /** Of those, taken while the link was down and not yet sent. */
    backlog: z.number().int().min(0),
    /** Bytes held, counted against the quota. */
    bytes: z.number().int().min(0),
    /** Age of the oldest unacknowledged item, ms. */
    oldestUnackedAgeMs: z.number().min(0),
  }),
  devicesOnline: z.number().int().min(0).optional(),
  devices: z.number().int().min(0).optional(),
});
export type HealthMessage = z.infer<typeof healthMessageSchema>;

/** Hub -> edge on `cmd/ack`: the highest contiguous seq of `bootId` the hub has made durable. */
export const ackMessageSchema = z.object({ bootId: z.string().min(1), seq: z.number().int().min(-1) });
export type AckMessage = z.infer<typeof ackMessageSchema>;

/** Largest uplink payload the hub accepts; bigger ones are refused as `too-large`. */
export const MAX_UPLINK_BYTES = 4 * 1024 * 1024;
