import { loadGatewayConfig } from '../../config/load.js';
import { createTransport, driverOptionsValidator, registry } from '../../drivers/index.js';
import { ConfigError, describeError } from '../../drivers/sdk/errors.js';
import { createLogger } from '../../drivers/sdk/log.js';
import { startEdge } from '../../edge/src/main.js';
import { untilStopSignal } from '../lib/signals.js';

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

/** `citygrid edge --config <gateway.yaml>`: runs one edge agent until SIGINT/SIGTERM. */
export async function run(args: string[]): Promise<number> {
  const file = argValue(args, '--config');
  if (!file) {
    console.error('usage: citygrid edge --config <gateway.yaml>');
    return 2;
  }
  let loaded: ReturnType<typeof loadGatewayConfig>;
  try {
    loaded = loadGatewayConfig(file, driverOptionsValidator);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${file}: ${err.issues.length} problem${err.issues.length > 1 ? 's' : ''}`);
    for (const i of err.issues) console.error(`  ${i.file}: ${i.path || '(root)'}: ${i.message}`);
    return 1;
  }
  const logger = createLogger({ name: 'citygrid-edge', level: loaded.gateway.logLevel }).child({
    gateway: loaded.gateway.gateway.id,
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err: describeError(err) }, 'Unhandled rejection');
    process.exit(1);
  });
  const edge = await startEdge(loaded, { registry, createTransport, logger });
  const signal = await untilStopSignal();
  logger.info({ signal }, 'Stopping');
  await edge.stop();
  return 0;
}
