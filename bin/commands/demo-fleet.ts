/**
 * The demo's sanitation fleet: for every gateway with a jt808 server, the city's vehicles whose
 * terminals that gateway lists (phones and plates from its jt808-terminal devices: one source of
 * truth) drive their assigned roads and dial the gateway's server. Real time (speedup 1), a report
 * every 5 s; one truck per district misbehaves (skips half of some segments) so the coverage
 * judging has something to find.
 */
import type { CityConfig } from '../../config/schema/city.js';
import type { GatewayConfig } from '../../config/schema/gateway.js';
import type { Logger } from '../../drivers/sdk/log.js';
import { type Fleet, startFleet } from '../../simulators/fleet/fleet.js';
import { cityFleet, phonesFromGateway, tunnelPoints } from '../../simulators/fleet/vehicles.js';

export interface DemoFleet {
  /** Banner line. */
  readonly summary: string;
  stop(): Promise<void>;
}

const REPORT_INTERVAL_S = 5;

export function startDemoFleet(gateways: GatewayConfig[], opts: { city: CityConfig; log: Logger }): DemoFleet {
  const fleets: Fleet[] = [];
  const parts: string[] = [];
  gateways.forEach((gateway, g) => {
    const server = gateway.servers.find((s) => s.protocol === 'jt808');
    if (!server) return;
    const vehicles = cityFleet(opts.city, {
      phones: phonesFromGateway(gateway),
      // the garbage truck of each district skips half of every second segment
      misbehave: opts.city.vehicles.filter((v) => v.role === 'garbage').map((v) => v.id),
    });
    if (vehicles.length === 0) return;
    for (const v of vehicles) {
      const plate = gateway.devices.find((d) => d.id === v.id)?.options?.plate;
      if (typeof plate === 'string') v.register.plate = plate;
    }
    fleets.push(
      startFleet({
        vehicles,
        host: server.listen.host === '0.0.0.0' ? '127.0.0.1' : server.listen.host,
        port: server.listen.port,
        seed: g + 1,
        reportIntervalS: REPORT_INTERVAL_S,
        tunnels: tunnelPoints(opts.city),
        log: opts.log.child({ gateway: gateway.gateway.id }),
      }),
    );
    parts.push(`${gateway.gateway.id} ${vehicles.map((v) => v.id).join(' ')} -> :${server.listen.port}`);
  });
  return {
    summary: `${fleets.reduce((n, f) => n + f.terminals.size, 0)} trucks with JT/T 808 terminals, a report every ${REPORT_INTERVAL_S} s (${parts.join('; ')})`,
    async stop() {
      await Promise.all(fleets.map((f) => f.stop()));
    },
  };
}
