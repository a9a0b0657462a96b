/**
 * `npm run bench -- meter-bus [--meters 32] [--baud 2400] [--cycles 5] [--protocol cjt188|modbus|mix]`
 *
 * One poll cycle of N meters on a real pty pair: the simulated meter bus answers at the baud rate
 * (it delays each answer by the wire time of request and answer, 11 bits a byte, plus its
 * turnaround), the bus poller asks every meter once. The cycle time is compared with the physical
 * bound: every byte on the wire × 11 bits / baud, plus the configured gaps (the poller's quiet line
 * before each request and the meters' turnaround). Prints one JSON line per cycle and a summary
 * with the ratio measured / bound (1.0 is the line itself).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cjt188Device, modbusReadDevice } from '../../drivers/bus-poller/adapters.js';
import { createBusPoller } from '../../drivers/bus-poller/poller.js';
import type { BusDevice } from '../../drivers/sdk/bus-device.js';
import { systemClock } from '../../drivers/sdk/clock.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import { createTransport } from '../../drivers/transports/index.js';
import { busSilenceMs } from '../../edge/src/bus-run.js';
import { openPtyPair } from '../../simulators/common/pty.js';
import { startMeterBus } from '../../simulators/meters/bus.js';
import type { MeterProtocol } from '../../simulators/meters/meter.js';
import { generateMeters } from '../../simulators/meters/spec.js';

const BITS_PER_CHAR = 11;
const TURNAROUND_MS = 30;

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'meter-bus', ...line })}\n`);
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      meters: { type: 'string', default: '32' },
      baud: { type: 'string', default: '2400' },
      cycles: { type: 'string', default: '5' },
      protocol: { type: 'string', default: 'cjt188' },
    },
  });
  const count = Number(values.meters);
  const baud = Number(values.baud);
  const cycles = Number(values.cycles);
  const protocol = values.protocol as MeterProtocol | 'mix';
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-bench-meterbus-'));
  const pty = await openPtyPair(dir);
  const specs = generateMeters(count, protocol);
  const sim = await startMeterBus({ out: pty.a, meters: specs, baudRate: baud, turnaroundMs: TURNAROUND_MS, seed: 5 });
  const line = {
    type: 'serial',
    path: pty.b,
    baudRate: baud,
    dataBits: 8,
    parity: 'even',
    stopBits: 1,
    reopenDelay: 1000,
  } as const;
  const silence = busSilenceMs({
    id: 'bench',
    transport: line,
    pollInterval: 3_600_000,
    responseTimeout: 1000,
    retries: 2,
    offlineAfter: 3,
    backoffCap: 600_000,
  });

  let answers = 0;
  let wireBytes = 0;
  let onCycleDone: (() => void) | undefined;
  const answered = (bytes: number) => {
    wireBytes += bytes;
    answers++;
    if (answers % count === 0) onCycleDone?.();
  };
  const devices: BusDevice<unknown>[] = specs.map((m, i) => {
    const id = `M${i + 1}`;
    if (m.protocol === 'cjt188')
      return wrapBytes(
        cjt188Device({ id, meterType: 0x10, address: m.address, preamble: 2, onAnswer: () => undefined }),
        answered,
      );
    return wrapBytes(
      modbusReadDevice({
        id,
        unit: Number(m.address),
        function: 3,
        address: 1,
        quantity: 28,
        onAnswer: () => undefined,
      }),
      answered,
    );
  });

  const results: number[] = [];
  for (let c = 0; c < cycles; c++) {
    wireBytes = 0;
    const transport = createTransport(line);
    // a poll interval far beyond the run: each meter is asked exactly once per poller
    const poller = createBusPoller({
      transport,
      devices,
      log: silentLogger(),
      clock: systemClock,
      pollIntervalMs: 3_600_000,
      responseTimeoutMs: 1000,
      silence: { ms: silence },
      line: { baud, bitsPerChar: BITS_PER_CHAR },
    });
    const done = new Promise<void>((resolve) => {
      onCycleDone = resolve;
    });
    const started = performance.now();
    await poller.start();
    await done;
    const cycleMs = performance.now() - started;
    const counters = poller.counters();
    await poller.stop();
    const boundMs = (wireBytes * BITS_PER_CHAR * 1000) / baud + count * (silence + TURNAROUND_MS);
    results.push(cycleMs / boundMs);
    emit({
      cycle: c + 1,
      meters: count,
      protocol,
      baud,
      cycleMs: Math.round(cycleMs),
      wireBytes,
      boundMs: Math.round(boundMs),
      ratio: Number((cycleMs / boundMs).toFixed(3)),
      retries: counters.requests - count,
      discarded: counters.discarded,
    });
  }
  await sim.stop();
  await pty.stop();
  rmSync(dir, { recursive: true, force: true });
  const sorted = [...results].sort((a, b) => a - b);
  emit({
    summary: true,
    meters: count,
    protocol,
    baud,
    silenceMs: Number(silence.toFixed(2)),
    turnaroundMs: TURNAROUND_MS,
    ratioMedian: Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(3)),
    ratioBest: Number((sorted[0] ?? 0).toFixed(3)),
  });
  return 0;
}

/** Counts the bytes of every request sent and every answer credited, to compute the bound. */
function wrapBytes(device: BusDevice<unknown>, answered: (bytes: number) => void): BusDevice<unknown> {
  let requestBytes = 0;
  return {
    ...device,
    request() {
      const r = device.request();
      requestBytes = r.length;
      return r;
    },
    match(frame, sent) {
      const v = device.match(frame, sent);
      if (v.verdict === 'mine') answered(requestBytes + frame.length);
      return v;
    },
  };
}
