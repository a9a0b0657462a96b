/**
 * Small per-device state that must survive a gateway restart: the last meter reading an
 * interval consumption is computed from, a counter baseline. Not telemetry (that is the outbox):
 * a few values per device, rewritten whole. The file store batches writes (one write per
 * `writeDelayMs` at most) and replaces the file atomically (write, fsync, rename), so a power cut
 * leaves the old or the new state, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../drivers/sdk/log.js';

export interface DeviceStateStore {
  get<T = unknown>(device: string, key: string): T | undefined;
  set(device: string, key: string, value: unknown): void;
  /** Writes what is pending; resolves when it is on disk. */
  flush(): Promise<void>;
}

export const DEVICE_STATE_FILE = 'device-state.json';

type State = Record<string, Record<string, unknown>>;

export class MemoryDeviceStateStore implements DeviceStateStore {
  protected state: State = {};
  get<T>(device: string, key: string): T | undefined {
    return this.state[device]?.[key] as T | undefined;
  }
  set(device: string, key: string, value: unknown): void {
    // a copy, so a caller mutating its object later cannot change what was stored
    const entries = this.state[device] ?? {};
    entries[key] = value === undefined ? undefined : JSON.parse(JSON.stringify(value));
    this.state[device] = entries;
    this.changed();
  }
  protected changed(): void {}
  async flush(): Promise<void> {}
}

export class FileDeviceStateStore extends MemoryDeviceStateStore {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly writeDelayMs = 1000,
  ) {
    super();
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) this.state = parsed as State;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        log.warn({ file, err: String(err) }, 'Device state unreadable; starting without it');
    }
  }

  protected override changed(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writeNow();
    }, this.writeDelayMs);
    this.timer.unref?.();
  }

  override async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writeNow();
  }

  private writeNow(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const tmp = `${this.file}.tmp`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, JSON.stringify(this.state));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
    } catch (err) {
      this.dirty = true;
      this.log.warn({ file: this.file, err: String(err) }, 'Device state not written; will retry');
    }
  }
}
