/**
 * What the rest of the hub sees of MQTT, whichever broker is underneath: the embedded aedes
 * (in-process subscriptions, no socket) or an external broker reached as an MQTT.js client.
 */

/**
 * Receives one message; the payload is always a Buffer. Must not throw (the link logs and goes on
 * if it does). Returning a promise asks the link to hold further deliveries until it settles
 * (backpressure while the telemetry sink is saturated).
 */
export type MessageHandler = (topic: string, payload: Buffer) => void | Promise<void>;

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
}

export interface BrokerLink {
  /** `embedded` (aedes inside the hub) or `external` (a client of mqtt.url). */
  readonly mode: 'embedded' | 'external';
  /** Where MQTT clients connect: the actual listening URL (embedded) or the configured URL (external). */
  readonly url: string;
  /** Delivers every message matching `filter` (MQTT wildcards allowed) to `handler`, QoS 1. */
  subscribe(filter: string, handler: MessageHandler): Promise<void>;
  /** Resolves once the broker took the message (embedded: routed; external: PUBACK for QoS 1). */
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void>;
  /** Embedded: always true while open. External: the client's connection state. */
  connected(): boolean;
  /** Closes listeners / the client. Idempotent. */
  close(): Promise<void>;
}

/** MQTT filter matching (`+` one level, `#` the rest), for dispatching in the external client. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * `topicMatches` with the filter split once: the external client dispatches every message through
 * it, and splitting filter and topic per message showed in the profile at one reading per message.
 */
export function topicMatcher(filter: string): (topic: string) => boolean {
  const levels = filter.split('/');
  const multi = levels[levels.length - 1] === '#';
  const fixed = multi ? levels.length - 1 : levels.length;
  return (topic) => {
    let start = 0;
    for (let i = 0; i < fixed; i++) {
      if (start > topic.length) return false;
      let end = topic.indexOf('/', start);
      if (end < 0) end = topic.length;
      const level = levels[i] as string;
      if (level !== '+' && (end - start !== level.length || !topic.startsWith(level, start))) return false;
      start = end + 1;
    }
    // `a/#` also matches `a` itself (MQTT 3.1.1 §4.7.1.2), like topicMatches.
    return multi ? true : start === topic.length + 1;
  };
}
