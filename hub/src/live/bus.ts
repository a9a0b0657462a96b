/**
 * The hub's live bus (DESIGN §2): accepted readings, events and gateway state changes, typed.
 * Subscribers are in-process (latest-value cache, SSE, later the correlator); one that throws is
 * logged and the others still run.
 */

import type { Logger } from '../../../drivers/sdk/log.js';
import type { CityEvent, Reading } from '../../../drivers/sdk/reading.js';

/** A reading as the hub placed it: where it came from and which asset / grid cell it belongs to. */
export interface LiveReading {
  reading: Reading;
  district: string;
  gateway: string;
  asset?: string;
  grid?: string;
  /** ms since epoch, hub clock, when the hub accepted the message. */
  receivedAt: number;
}

export interface LiveEvent {
  event: CityEvent;
  district: string;
  gateway: string;
  receivedAt: number;
}

export interface GatewayChange {
  gateway: string;
  district: string;
  online: boolean;
  bootId?: string;
  /** ms since epoch of the state message (gateway clock). */
  ts: number;
}

export interface LiveEventMap {
  reading: LiveReading;
  event: LiveEvent;
  gateway: GatewayChange;
}

type Listener<T> = (payload: T) => void;

export class LiveBus {
  private readonly listeners: { [K in keyof LiveEventMap]: Set<Listener<LiveEventMap[K]>> } = {
    reading: new Set(),
    event: new Set(),
    gateway: new Set(),
  };

  constructor(private readonly log: Logger) {}

  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof LiveEventMap>(name: K, listener: Listener<LiveEventMap[K]>): () => void {
    const set = this.listeners[name] as Set<Listener<LiveEventMap[K]>>;
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof LiveEventMap>(name: K, payload: LiveEventMap[K]): void {
    for (const listener of this.listeners[name] as Set<Listener<LiveEventMap[K]>>) {
      try {
        listener(payload);
      } catch (err) {
        this.log.error({ err, topic: name }, 'Live bus listener threw');
      }
    }
  }

  listenerCount(name: keyof LiveEventMap): number {
    return this.listeners[name].size;
  }
}
