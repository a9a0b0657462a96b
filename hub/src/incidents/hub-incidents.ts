/**
 * Incidents inside the running hub (issue 10): opens, proposes and switches incidents (kept in
 * cases.db), and makes the system follow what the open ones ask, recomputed after every switch:
 * - the rule profile per district (the case core's profile resolver) and the incident link of new
 *   cases raised in scope;
 * - `cmd/sample-interval` to the gateways of the districts in scope, for the device kinds of the
 *   incident type, `default` when no incident wants a kind any more, and again to a gateway that
 *   comes back (its state message: the edge keeps no sample interval across a restart);
 * - snapshots from the cameras of hotspot assets in scope, at their presets, on a schedule;
 * and, whether or not an incident is open, road-closure recommendations at underpasses from the
 * water depth (closures.ts), and trigger rules that propose an incident (triggers.ts).
 * Every change goes on the live bus (`incident`, `closure`).
 */
import { randomUUID } from 'node:crypto';
import type { CityConfig } from '../../../config/schema/city.js';
import type { IncidentLevel, IncidentsConfig, IncidentType } from '../../../config/schema/incidents.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { parseTopic, topics } from '../../../drivers/sdk/wire.js';
import type { BrokerLink } from '../broker/link.js';
import type { HubCases } from '../cases/hub-cases.js';
import type { CaptureCommands } from '../evidence/capture.js';
import type { GatewayRegistry } from '../ingest/gateways.js';
import type { LiveBus, LiveReading } from '../live/bus.js';
import { type Closure, type ClosureChange, ClosureMonitor } from './closures.js';
import { type DistrictEffects, districtEffects, type Hotspot, hotspots, planSampleCommands } from './effects.js';
import {
  checkScope,
  type Incident,
  type IncidentActor,
  type IncidentCommand,
  IncidentError,
  type IncidentScope,
  isLive,
  newIncident,
  scopeDistricts,
  sharedDistricts,
  switchIncident,
} from './model.js';
import { type IncidentStore, openIncidentStore } from './store.js';
import { TriggerEvaluator, type TriggerVerdict } from './triggers.js';

/** A sample-interval command sent to a gateway, and what it answered. */
export interface SampleCommandView {
  id: string;
  gateway: string;
  district: string;
  kinds: string[];
  interval: number | 'default';
  sentAt: number;
  state: 'sent' | 'ok' | 'error';
  result?: Record<string, unknown>;
  error?: string;
}

export interface HubIncidentsOptions {
  config: IncidentsConfig;
  city: Pick<CityConfig, 'districts' | 'assets' | 'gridCells'>;
  dataDir: string;
  bus: LiveBus;
  link: BrokerLink;
  registry: GatewayRegistry;
  capture?: Pick<CaptureCommands, 'requestCapture'>;
  cases?: HubCases;
  log: Logger;
  metrics: MetricsRegistry;
  now?: () => number;
}

const SYSTEM: IncidentActor = { id: 'hub', role: 'system' };
const MAX_COMMANDS = 500;
const RECENT_MS = 7 * 86_400_000;

export class HubIncidents {
  readonly store: IncidentStore;
  readonly closures: ClosureMonitor;
  readonly triggers: TriggerEvaluator;
  private readonly live = new Map<string, Incident>();
  private effects = new Map<string, DistrictEffects>();
  private spots = new Map<string, Hotspot & { nextAt: number }>();
  /** Per gateway: kind -> interval last sent. */
  private readonly sent = new Map<string, Map<string, number>>();
  private readonly commandLog: SampleCommandView[] = [];
  private readonly dismissedAt = new Map<string, number>();
  private readonly districts: string[];
  private readonly districtOfGrid: Map<string, string>;
  private readonly assetOf: Map<string, CityConfig['assets'][number]>;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly switches;
  private readonly commandsTotal;
  private closed = false;

  constructor(private readonly o: HubIncidentsOptions) {
    this.now = o.now ?? Date.now;
    this.log = o.log;
    this.districts = o.city.districts.map((d) => d.id);
    this.districtOfGrid = new Map(o.city.gridCells.map((g) => [g.id, g.district]));
    this.assetOf = new Map(o.city.assets.map((a) => [a.id, a]));
    this.store = openIncidentStore(o.dataDir);
    this.closures = new ClosureMonitor(o.config.closures);
    this.closures.load(this.store.closuresInForce());
    this.triggers = new TriggerEvaluator(o.config.triggers);
    for (const i of this.store.live()) this.live.set(i.id, i);
    for (const i of this.store.recent(this.now() - o.config.quietAfterDismiss, 1000))
      if (i.state === 'dismissed' && i.trigger) this.dismissedAt.set(this.quietKey(i), i.endedAt ?? i.updatedAt);

    const m = o.metrics;
    this.switches = m.counter(
      'citygrid_incidents_switches_total',
      'Incident switches by type and action (propose, open, confirm, level, close, dismiss).',
    );
    this.commandsTotal = m.counter(
      'citygrid_incidents_commands_total',
      'Commands an incident sent, by command (sample-interval, snapshot) and outcome (sent, failed; ok, error for cmd-result answers).',
    );
    m.gauge('citygrid_incidents_open', 'Open incidents by type and level (proposals by state="proposed").', (g) => {
      for (const type of ['flood', 'snow'])
        for (const level of ['IV', 'III', 'II', 'I'])
          for (const state of ['open', 'proposed'])
            g.set(
              { type, level, state },
              [...this.live.values()].filter((i) => i.type === type && i.level === level && i.state === state).length,
            );
    });
    m.gauge('citygrid_incidents_closures_in_force', 'Road-closure recommendations in force (underpasses).', (g) =>
      g.set({}, this.closures.inForce().length),
    );
  }

  /** Subscribes to readings, gateway state and command results; applies what the live incidents ask. */
  async start(): Promise<void> {
    await this.o.link.subscribe(topics.uplinkFilter('cmd-result'), (topic, payload) => this.onResult(topic, payload));
    this.unsubscribe.push(
      this.o.bus.on('reading', (r) => this.onReading(r)),
      this.o.bus.on('gateway', (g) => {
        if (g.online) this.syncGateway(g.gateway, true);
      }),
    );
    this.o.cases?.service.setProfileResolver((place) => {
      const d = this.districtOf(place);
      return d ? this.effects.get(d)?.profile : undefined;
    });
    this.o.cases?.service.setIncidentLinker((c) => {
      const d = c.district ?? this.districtOf(c);
      return d ? this.effects.get(d)?.governing.id : undefined;
    });
    this.timer = setInterval(() => this.tick(), this.o.config.tick);
    this.timer.unref();
    this.apply();
    this.log.info({ live: this.live.size, closures: this.closures.inForce().length }, 'Incidents ready');
  }

  /** Live incidents and those updated in the last week, newest first. */
  list(): Incident[] {
    return this.store.recent(this.now() - RECENT_MS, 200);
  }

  get(id: string): Incident | undefined {
    return this.live.get(id) ?? this.store.get(id);
  }

  /** An operator opens an incident. Throws IncidentError (bad-scope, incident-overlap). */
  open(o: {
    type: IncidentType;
    scope: IncidentScope;
    level: IncidentLevel;
    reason: string;
    by: IncidentActor;
  }): Incident {
    const scope = checkScope(o.scope, this.districts);
    this.refuseOverlap(o.type, scope);
    const i = newIncident({ ...o, scope, id: this.store.nextId(), state: 'open', at: this.now() });
    return this.commit(i, 'open');
  }

  /** confirm, dismiss, level, close. Throws IncidentError. */
  command(id: string, cmd: Omit<IncidentCommand, 'at'>): Incident {
    const current = this.get(id);
    if (!current) throw new IncidentError('unknown-incident', `no incident "${id}"`);
    if (cmd.action === 'confirm') this.refuseOverlap(current.type, current.scope, id);
    const next = switchIncident(current, { ...cmd, at: this.now() });
    if (cmd.action === 'dismiss' && next.trigger) this.dismissedAt.set(this.quietKey(next), next.endedAt as number);
    return this.commit(next, cmd.action);
  }

  /** Sample-interval commands sent to gateways of the districts given, since `since`, newest first. */
  commands(districts: readonly string[], since: number): SampleCommandView[] {
    return this.commandLog.filter((c) => districts.includes(c.district) && c.sentAt >= since).reverse();
  }

  /** What the open incidents ask per district (profile, governing incident, intervals). */
  effectsIn(district: string): DistrictEffects | undefined {
    return this.effects.get(district);
  }

  hotspots(): Hotspot[] {
    return [...this.spots.values()].map(({ nextAt: _n, ...h }) => h);
  }

  districtsOf(i: Incident): string[] {
    return scopeDistricts(i.scope, this.districts);
  }

  /** Runs the clock once: trigger windows, hotspot snapshots, sample commands not yet delivered. */
  tick(): void {
    if (this.closed) return;
    const now = this.now();
    this.triggers.tick(now);
    for (const spot of this.spots.values()) {
      if (now < spot.nextAt) continue;
      spot.nextAt = now + spot.everyMs;
      void this.snapshot(spot);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const u of this.unsubscribe) u();
    this.o.cases?.service.setProfileResolver(undefined);
    this.o.cases?.service.setIncidentLinker(undefined);
    this.store.close();
  }

  private commit(i: Incident, action: string): Incident {
    this.store.save(i);
    if (isLive(i.state)) this.live.set(i.id, i);
    else this.live.delete(i.id);
    this.switches.inc({ type: i.type, action });
    const last = i.history.at(-1);
    this.log.info(
      { incident: i.id, type: i.type, level: i.level, state: i.state, by: last?.by, reason: last?.reason },
      'Incident switched',
    );
    this.o.bus.emit('incident', { effect: action, incident: i });
    this.apply();
    return i;
  }

  private refuseOverlap(type: IncidentType, scope: IncidentScope, self?: string): void {
    for (const other of this.live.values()) {
      if (other.id === self || other.type !== type || other.state !== 'open') continue;
      const shared = sharedDistricts(scope, other.scope, this.districts);
      if (shared.length > 0)
        throw new IncidentError(
          'incident-overlap',
          `${type} incident ${other.id} is open in ${shared.join(', ')}: change its level or scope instead`,
        );
    }
  }

  /** Recomputes what the open incidents ask and brings profiles, edges and cameras to it. */
  private apply(): void {
    const open = [...this.live.values()].filter((i) => i.state === 'open');
    this.effects = districtEffects(open, this.o.config, this.districts);
    const now = this.now();
    const next = new Map<string, Hotspot & { nextAt: number }>();
    for (const h of hotspots(open, this.o.config, this.o.city)) {
      const cur = this.spots.get(h.asset);
      // A new hotspot (or a shorter period) snapshots at once.
      const nextAt = cur && cur.everyMs <= h.everyMs ? Math.min(cur.nextAt, now + h.everyMs) : now;
      next.set(h.asset, { ...h, nextAt });
    }
    this.spots = next;
    for (const g of this.o.registry.listGateways()) this.syncGateway(g.id, false);
    this.tick();
  }

  /** Sends a gateway the sample-interval commands that bring it to what its district's incidents want. */
  private syncGateway(gateway: string, reborn: boolean): void {
    const g = this.o.registry.get(gateway);
    if (!g || this.closed) return;
    const kinds = new Set(g.devices.map((d) => d.kind));
    const wanted = new Map([...(this.effects.get(g.district)?.intervals ?? [])].filter(([k]) => kinds.has(k)));
    const sent = this.sent.get(gateway) ?? new Map<string, number>();
    const plan = planSampleCommands(sent, wanted, reborn);
    if (plan.length === 0) return;
    if (!g.online || !this.o.link.connected()) {
      // Sent when it is back (its state message resends everything wanted).
      this.log.debug({ gateway }, 'Sample interval owed to an offline gateway');
      return;
    }
    this.sent.set(gateway, wanted);
    for (const cmd of plan) void this.sendSample(g.id, g.district, cmd.kinds, cmd.interval);
  }

  private async sendSample(gateway: string, district: string, kinds: string[], interval: number | 'default') {
    const view: SampleCommandView = {
      id: randomUUID(),
      gateway,
      district,
      kinds,
      interval,
      sentAt: this.now(),
      state: 'sent',
    };
    this.commandLog.push(view);
    if (this.commandLog.length > MAX_COMMANDS) this.commandLog.shift();
    try {
      await this.o.link.publish(
        topics.cmd({ district, gateway }, 'sample-interval'),
        JSON.stringify({ id: view.id, kinds, interval }),
        { qos: 1 },
      );
      this.commandsTotal.inc({ command: 'sample-interval', outcome: 'sent' });
      this.log.info({ gateway, kinds, interval, commandId: view.id }, 'Sample interval sent');
    } catch (err) {
      view.state = 'error';
      view.error = (err as Error).message;
      // Forget what was sent, so the next sync (a switch, or the gateway's next state message) tries again.
      this.sent.delete(gateway);
      this.commandsTotal.inc({ command: 'sample-interval', outcome: 'failed' });
      this.log.warn({ gateway, err: view.error }, 'Sample interval not sent');
    }
  }

  private onResult(topic: string, payload: Buffer): void {
    const origin = parseTopic(topic);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const view = this.commandLog.find((c) => c.id === body?.id);
    if (!view || origin?.type !== 'uplink' || origin.gateway !== view.gateway) return;
    const { id: _id, name: _name, ok, error, ...result } = body;
    view.state = ok === true ? 'ok' : 'error';
    if (ok === true) view.result = result;
    else view.error = typeof error === 'string' ? error : 'failed';
    this.commandsTotal.inc({ command: 'sample-interval', outcome: view.state });
    if (view.state === 'error')
      this.log.warn(
        { gateway: view.gateway, commandId: view.id, err: view.error },
        'Sample interval refused by the edge',
      );
  }

  private async snapshot(spot: Hotspot): Promise<void> {
    if (!this.o.capture) return;
    try {
      const results = await this.o.capture.requestCapture(spot.asset);
      for (const r of results) this.commandsTotal.inc({ command: 'snapshot', outcome: r.command ? 'sent' : 'failed' });
    } catch (err) {
      this.commandsTotal.inc({ command: 'snapshot', outcome: 'failed' });
      this.log.warn({ asset: spot.asset, err: (err as Error).message }, 'Hotspot snapshot not requested');
    }
  }

  private onReading(r: LiveReading): void {
    if (this.closed) return;
    const { reading } = r;
    if (reading.quality === 'bad') return;
    for (const v of this.triggers.onReading({
      device: reading.device,
      kind: reading.kind,
      district: r.district,
      ts: reading.ts,
      fields: reading.fields as Record<string, number | string | boolean>,
    }))
      this.propose(v);
    const asset = r.asset ? this.assetOf.get(r.asset) : undefined;
    const depth = reading.fields[this.o.config.closures.field];
    if (!asset || typeof depth !== 'number' || !this.o.config.closures.assetKinds.includes(asset.kind)) return;
    const change = this.closures.onDepth(asset.id, reading.device, depth, reading.ts, () => this.closureContext(asset));
    if (change) this.publishClosure(change);
  }

  private closureContext(asset: CityConfig['assets'][number]): { incident?: string; case?: string } {
    const incident = [...this.live.values()].find(
      (i) => i.state === 'open' && this.districtsOf(i).includes(asset.district),
    );
    const c = this.o.cases?.service.store.openCases().find((x) => x.asset === asset.id && x.category === 'event:0406');
    return { ...(incident ? { incident: incident.id } : {}), ...(c ? { case: c.id } : {}) };
  }

  private publishClosure(change: ClosureChange): void {
    try {
      this.store.saveClosure(change.closure);
    } catch (err) {
      this.log.error({ err, asset: change.closure.asset }, 'Closure recommendation not recorded in cases.db');
    }
    const c: Closure = change.closure;
    const fields = { asset: c.asset, depthCm: c.liftedDepthCm ?? c.raisedDepthCm, incident: c.incident, case: c.case };
    if (change.action === 'raised') this.log.warn(fields, 'Road closure recommended');
    else this.log.info(fields, 'Road closure lifted');
    this.o.bus.emit('closure', change);
  }

  private propose(v: TriggerVerdict): void {
    const scope: IncidentScope = v.district ? { districts: [v.district] } : { city: true };
    const districts = scopeDistricts(scope, this.districts);
    const covered = [...this.live.values()].some(
      (i) => i.type === v.trigger.type && sharedDistricts(i.scope, scope, this.districts).length > 0,
    );
    if (covered) return;
    const key = `${v.trigger.id}|${districts.join(',')}`;
    const dismissed = this.dismissedAt.get(key);
    if (dismissed !== undefined && this.now() - dismissed < this.o.config.quietAfterDismiss) return;
    const i = newIncident({
      id: this.store.nextId(),
      type: v.trigger.type,
      scope,
      level: v.trigger.level,
      state: 'proposed',
      by: SYSTEM,
      at: this.now(),
      reason: `trigger ${v.trigger.id}: ${v.evidence.devices.length} of k=${v.trigger.k} devices within the window`,
      trigger: v.evidence,
    });
    this.commit(i, 'propose');
  }

  private quietKey(i: Incident): string {
    return `${i.trigger?.rule}|${this.districtsOf(i).join(',')}`;
  }

  private districtOf(place: { asset?: string; grid?: string }): string | undefined {
    if (place.asset) {
      const a = this.assetOf.get(place.asset);
      if (a) return a.district;
    }
    return place.grid ? this.districtOfGrid.get(place.grid) : undefined;
  }
}
