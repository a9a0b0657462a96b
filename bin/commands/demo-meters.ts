/**
 * The demo's water-meter buses: for every `buses:` entry of a gateway whose devices are meters, a
 * simulated meter bus answering as those meters (addresses and unit ids from the device options)
 * on a pty pair (socat), or on a loopback serial device server without socat. The bus transport
 * of the gateway config is pointed at it. The meters' clock runs 60 times faster, so interval
 * consumption is visible at a 10 s poll; one household meter leaks, one has a flat battery.
 */
import { mkdirSync } from 'node:fs';
import type { GatewayConfig } from '../../config/schema/gateway.js';
import type { Logger } from '../../drivers/sdk/log.js';
import { openPtyPair } from '../../simulators/common/pty.js';
import { startTcpSerialServer } from '../../simulators/common/tcp-serial-server.js';
import { startMeterBus } from '../../simulators/meters/bus.js';
import type { MeterSpec } from '../../simulators/meters/meter.js';

const SPEEDUP = 60;

export interface DemoMeterBuses {
  stop(): Promise<void>;
}

function meterSpec(driver: string, options: Record<string, unknown>): MeterSpec | undefined {
  if (driver === 'cjt188-water-meter') return { protocol: 'cjt188', address: String(options.address) };
  if (driver === 'modbus-water-meter') return { protocol: 'modbus', address: String(options.unit), dailyM3: 60 };
  return undefined;
}

export async function startDemoMeterBuses(
  gateway: GatewayConfig,
  opts: { useSocat: boolean; ttyDir: string; log: Logger },
): Promise<DemoMeterBuses> {
  const stops: (() => Promise<void>)[] = [];
  for (const bus of gateway.buses) {
    const specs = gateway.devices.filter((d) => d.bus === bus.id).flatMap((d) => meterSpec(d.driver, d.options) ?? []);
    if (specs.length === 0) continue;
    const households = specs.filter((m) => m.protocol === 'cjt188');
    if (households[1]) households[1].leakM3h = 0.03;
    if (households[3]) households[3].deadBattery = true;
    const started = Date.now();
    const common = { meters: specs, seed: 3, now: () => started + (Date.now() - started) * SPEEDUP };
    if (opts.useSocat) {
      mkdirSync(opts.ttyDir, { recursive: true });
      const pair = await openPtyPair(opts.ttyDir, { a: `${bus.id}.sim`, b: `${bus.id}.dev` });
      const sim = await startMeterBus({ ...common, out: pair.a });
      bus.transport = { ...bus.transport, type: 'serial', path: pair.b } as typeof bus.transport;
      stops.push(async () => {
        await sim.stop();
        await pair.stop();
      });
    } else {
      const server = await startTcpSerialServer(opts.log);
      const sim = await startMeterBus({ ...common, out: server.line });
      bus.transport = { type: 'tcp', host: '127.0.0.1', port: server.port, reopenDelay: 1000 };
      stops.push(() => sim.stop());
    }
    opts.log.info({ bus: bus.id, meters: specs.length }, 'Simulated meter bus started');
  }
  return {
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
