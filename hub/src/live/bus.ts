/**
 * The hub's live bus (DESIGN §2): accepted readings, events and gateway state changes, typed.
 * Subscribers are in-process (latest-value cache, SSE, later the correlator); one that throws is
 * logged and the others still run.
 */

import type { Logger } from '../../../drivers/sdk/log.js';
import type { CityEvent, Reading } from '../../../drivers/sdk/reading.js';
import type { CaseRecord } from '../cases/model.js';
import type { Closure } from '../incidents/closures.js';
import type { Incident } from '../incidents/model.js';

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

/** A case the case core changed: what happened (opened, joined, dispatch, mark_overdue, …) and the case as it is now. */
export interface CaseUpdate {
  effect: string;
  case: CaseRecord;
}

export interface LiveEventMap {
  reading: LiveReading;
  event: LiveEvent;
  gateway: GatewayChange;
  case: CaseUpdate;
  /** The rule profile was switched (who, when, why). */
  profile: { profile: string; actor: string; note?: string; at: number };
  /** An incident was proposed, opened, confirmed, re-levelled, closed or dismissed (the record as it is now). */
  incident: { effect: string; incident: Incident };
  /** A road-closure recommendation was raised or lifted. */
  closure: { action: 'raised' | 'lifted'; closure: Closure };
}

type Listener<T> = (payload: T) => void;

export class LiveBus {
  /**
   * Listeners per event name, as arrays replaced on every (un)subscribe: emit runs for every
   * accepted reading, and walking a plain array allocates nothing (a Set's iterator does).
   */
  private readonly listeners: { [K in keyof LiveEventMap]: readonly Listener<LiveEventMap[K]>[] } = {
    reading: [],
    event: [],
    gateway: [],
    case: [],
    profile: [],
    incident: [],
    closure: [],
  };

  constructor(private readonly log: Logger) {}

  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof LiveEventMap>(name: K, listener: Listener<LiveEventMap[K]>): () => void {
    // Like a Set: the same function subscribed twice is one subscription.
    if (!this.get(name).includes(listener)) this.set(name, [...this.get(name), listener]);
    return () => {
      this.set(
        name,
        this.get(name).filter((l) => l !== listener),
      );
    };
  }

  emit<K extends keyof LiveEventMap>(name: K, payload: LiveEventMap[K]): void {
    const listeners = this.get(name);
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as Listener<LiveEventMap[K]>)(payload);
      } catch (err) {
        this.log.error({ err, topic: name }, 'Live bus listener threw');
      }
    }
  }

  listenerCount(name: keyof LiveEventMap): number {
    return this.listeners[name].length;
  }

  private get<K extends keyof LiveEventMap>(name: K): readonly Listener<LiveEventMap[K]>[] {
    return this.listeners[name] as readonly Listener<LiveEventMap[K]>[];
  }

  private set<K extends keyof LiveEventMap>(name: K, list: readonly Listener<LiveEventMap[K]>[]): void {
    (this.listeners as Record<K, readonly Listener<LiveEventMap[K]>[]>)[name] = list;
  }
}
