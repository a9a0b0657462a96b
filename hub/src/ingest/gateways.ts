/**
 * What the hub knows of each gateway and device: the city's gateway list, the retained state
 * messages (online/offline, boot id, birth inventory) and the readings seen. Backs /api/gateways
 * and /api/devices.
 */
import type { CityConfig } from '../../../config/schema/city.js';
import type { DeviceInventoryItem, HealthMessage, StateMessage } from '../../../drivers/sdk/wire.js';

export interface GatewayView {
  id: string;
  district: string;
  name?: string;
  /** In the city config (false: seen on the wire only, external/bench mode). */
  known: boolean;
  online: boolean;
  bootId?: string;
  /** ms since epoch, hub clock, of the last message of any kind. */
  lastSeen?: number;
  /** ts (gateway clock) of the last state message applied. */
  stateTs?: number;
  version?: string;
  devices: DeviceInventoryItem[];
  /** Highest contiguous seq of the current boot the hub has made durable; -1 before anything. */
  watermark: number;
  /** Seqs skipped over by this gateway's messages, all boots. */
  gaps: number;
  duplicates: number;
  rejected: number;
  /** The gateway's last health report: outbox backlog and devices online (`.../health`). */
  health?: {
    /** Gateway clock ms when it was sent; hub clock ms when it arrived. */
    ts: number;
    receivedAt: number;
    outbox: HealthMessage['outbox'];
    devices?: number;
    devicesOnline?: number;
  };
}

export interface DeviceView {
  id: string;
  kind: string;
  gateway: string;
  district: string;
  asset?: string;
  driver?: string;
  online: boolean;
  /** ms since epoch, hub clock, of the last reading. */
  lastSeen?: number;
}

export class GatewayRegistry {
  private readonly gateways = new Map<string, GatewayView>();
  private readonly devices = new Map<string, DeviceView>();

  constructor(city: Pick<CityConfig, 'gateways'>) {
    for (const g of city.gateways) {
      this.gateways.set(g.id, {
        id: g.id,
        district: g.district,
        name: g.name,
        known: true,
        online: false,
        devices: [],
        watermark: -1,
        gaps: 0,
        duplicates: 0,
        rejected: 0,
      });
    }
  }

  /** The city's district of a gateway, or undefined when the city does not list it. */
  districtOf(gateway: string): string | undefined {
    const g = this.gateways.get(gateway);
    return g?.known ? g.district : undefined;
  }

  /** The view of a gateway, created on first sight when the city does not list it. */
  touch(gateway: string, district: string, now: number): GatewayView {
    let g = this.gateways.get(gateway);
    if (!g) {
      g = {
        id: gateway,
        district,
        known: false,
        online: true,
        devices: [],
        watermark: -1,
        gaps: 0,
        duplicates: 0,
        rejected: 0,
      };
      this.gateways.set(gateway, g);
    }
    g.lastSeen = now;
    return g;
  }

  get(gateway: string): GatewayView | undefined {
    return this.gateways.get(gateway);
  }

  /**
   * Applies a state message; returns false when it is older than the one applied last (a will of
   * a replaced connection arriving after the new birth).
   */
  applyHealth(gateway: string, district: string, h: HealthMessage, now: number): void {
    const g = this.touch(gateway, district, now);
    if (g.health && h.ts < g.health.ts) return; // QoS 0 reports may overtake each other
    g.health = {
      ts: h.ts,
      receivedAt: now,
      outbox: h.outbox,
      ...(h.devices !== undefined ? { devices: h.devices } : {}),
      ...(h.devicesOnline !== undefined ? { devicesOnline: h.devicesOnline } : {}),
    };
  }

  applyState(district: string, state: StateMessage, now: number): boolean {
    const g = this.touch(state.gateway, district, now);
    if (g.stateTs !== undefined && state.ts < g.stateTs) return false;
    g.stateTs = state.ts;
    g.online = state.state === 'online';
    if (state.bootId) g.bootId = state.bootId;
    if (state.version) g.version = state.version;
    if (state.devices) {
      g.devices = state.devices;
      for (const d of state.devices) {
        const current = this.devices.get(d.id);
        this.devices.set(d.id, {
          id: d.id,
          kind: d.kind,
          gateway: g.id,
          district: g.district,
          asset: d.asset ?? current?.asset,
          driver: d.driver,
          online: d.online ?? true,
          lastSeen: current?.lastSeen,
        });
      }
    }
    if (!g.online) for (const d of this.devices.values()) if (d.gateway === g.id) d.online = false;
    return true;
  }

  /** Records a reading of a device; returns the asset the birth inventory gives it, if any. */
  sawReading(
    gateway: string,
    district: string,
    device: string,
    kind: string,
    asset: string | undefined,
    now: number,
  ): string | undefined {
    const current = this.devices.get(device);
    const view: DeviceView = current ?? { id: device, kind, gateway, district, online: true };
    view.kind = kind;
    view.gateway = gateway;
    view.district = district;
    view.lastSeen = now;
    view.online = true;
    if (asset) view.asset = asset;
    if (!current) this.devices.set(device, view);
    return view.asset;
  }

  /** Inventory asset of a device (from a birth message), without recording anything. */
  assetOf(device: string): string | undefined {
    return this.devices.get(device)?.asset;
  }

  listGateways(): GatewayView[] {
    return [...this.gateways.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  listDevices(): DeviceView[] {
    return [...this.devices.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get onlineCount(): number {
    let n = 0;
    for (const g of this.gateways.values()) if (g.online) n++;
    return n;
  }
}
