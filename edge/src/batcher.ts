/**
 * Groups Readings into telemetry messages and Events into event messages. A batch leaves when it
 * is full (`maxReadings`) or when its oldest item has waited `maxDelay`; events wait at most
 * `eventDelay`, so an alarm is never held back behind slow telemetry.
 */
import type { CityEvent, Reading } from '../../drivers/sdk/reading.js';

export interface BatchSink {
  telemetry(readings: Reading[]): void;
  events(events: CityEvent[]): void;
}

export interface BatcherOptions {
  /** Readings (and events) per message at most. */
  maxReadings: number;
  /** ms a reading may wait for its batch to fill. */
  maxDelay: number;
  /** ms an event may wait for others to join it. Default 20. */
  eventDelay?: number;
}

class Batch<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly max: number,
    private readonly delay: number,
    private readonly emit: (items: T[]) => void,
  ) {}

  add(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.max) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delay);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.emit(items);
  }

  get length(): number {
    return this.items.length;
  }
}

export class Batcher {
  private readonly readings: Batch<Reading>;
  private readonly eventBatch: Batch<CityEvent>;

  constructor(opts: BatcherOptions, sink: BatchSink) {
    this.readings = new Batch(opts.maxReadings, opts.maxDelay, (items) => sink.telemetry(items));
    this.eventBatch = new Batch(opts.maxReadings, opts.eventDelay ?? 20, (items) => sink.events(items));
  }

  addReading(reading: Reading): void {
    this.readings.add(reading);
  }

  addEvent(event: CityEvent): void {
    this.eventBatch.add(event);
  }

  /** Emits whatever is waiting, events first (they are the more urgent). */
  flush(): void {
    this.eventBatch.flush();
    this.readings.flush();
  }

  /** Items waiting for their batch. */
  waiting(): number {
    return this.readings.length + this.eventBatch.length;
  }
}
