/** The last reading of every device, as the hub placed it (district, gateway, asset, grid, receive time). */
import type { LiveBus, LiveReading } from './bus.js';

export interface LatestFilter {
  device?: string;
  kind?: string;
  district?: string;
}

export class LatestValueCache {
  private readonly byDevice = new Map<string, LiveReading>();

  /** Keeps a reading unless the cache already holds a newer one of the same device (late re-sends). */
  put(entry: LiveReading): void {
    const current = this.byDevice.get(entry.reading.device);
    if (current && current.reading.ts > entry.reading.ts) return;
    this.byDevice.set(entry.reading.device, entry);
  }

  get(device: string): LiveReading | undefined {
    return this.byDevice.get(device);
  }

  query(filter: LatestFilter = {}): LiveReading[] {
    const out: LiveReading[] = [];
    for (const entry of this.byDevice.values()) {
      if (filter.device !== undefined && entry.reading.device !== filter.device) continue;
      if (filter.kind !== undefined && entry.reading.kind !== filter.kind) continue;
      if (filter.district !== undefined && entry.district !== filter.district) continue;
      out.push(entry);
    }
    return out.sort((a, b) => a.reading.device.localeCompare(b.reading.device));
  }

  get size(): number {
    return this.byDevice.size;
  }

  /** Feeds the cache from the bus; returns the unsubscribe function. */
  attach(bus: LiveBus): () => void {
    return bus.on('reading', (r) => this.put(r));
  }
}
