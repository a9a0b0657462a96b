/**
 * The bytes an outbox message goes out as: telemetry and events as a JSON envelope composed as
 * text around the stored body (parsing it again only to re-serialise it costs a replay), evidence
 * as a media frame (drivers/sdk/media-wire.ts) whose header gets the uplink fields.
 */
import { mediaPayload } from '../../drivers/sdk/media-wire.js';
import type { OutboxMessage } from './outbox.js';

export interface UplinkFields {
  gateway: string;
  /** Lowest seq of the message's boot still held. */
  firstUnacked: number;
  /** When the message was first put on the wire, gateway clock. */
  sentAt: number;
}

export function uplinkPayload(message: OutboxMessage, body: string | Buffer, f: UplinkFields): string | Buffer {
  if (message.channel === 'media') {
    const { gateway, firstUnacked, sentAt } = f;
    const header = { v: 1 as const, gateway, bootId: message.bootId, seq: message.seq, firstUnacked, sentAt };
    return mediaPayload(header, Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'));
  }
  return (
    `{"v":1,"gateway":${JSON.stringify(f.gateway)},"bootId":${JSON.stringify(message.bootId)}` +
    `,"seq":${message.seq},"firstUnacked":${f.firstUnacked},"sentAt":${f.sentAt}` +
    `,"${message.channel === 'event' ? 'events' : 'readings'}":${body}}`
  );
}
