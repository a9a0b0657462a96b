/**
 * `citygrid edge` with the test camera driver added to the shipped drivers: the same startEdge, config loader and signal handling as
 * bin/commands/edge.ts, run as a real process by the evidence e2e tests and the capture bench (so
 * it can be SIGKILLed). Usage: node --import tsx <this> --config <gateway.yaml>
 */

import { untilStopSignal } from '../../../bin/lib/signals.js';
import { loadGatewayConfig } from '../../../config/load.js';
import { createRegistry, createTransport, drivers, validateDriverOptions } from '../../../drivers/index.js';
import { createLogger } from '../../../drivers/sdk/log.js';
import { startEdge } from '../../../edge/src/main.js';
import { testCameraDriver } from './test-camera.js';

const file = process.argv[process.argv.indexOf('--config') + 1];
if (!file) throw new Error('usage: edge-with-test-camera --config <gateway.yaml>');
const registry = createRegistry([...drivers, testCameraDriver]);
const loaded = loadGatewayConfig(file, (driver, options, placement) =>
  validateDriverOptions(driver, options, registry, placement),
);
const logger = createLogger({ name: 'citygrid-edge', level: loaded.gateway.logLevel }).child({
  gateway: loaded.gateway.gateway.id,
});
const edge = await startEdge(loaded, { registry, createTransport, logger });
const signal = await untilStopSignal();
logger.info({ signal }, 'Stopping');
await edge.stop();
