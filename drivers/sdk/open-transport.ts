import type { ByteTransport } from './driver.js';
import { describeError, StartupError } from './errors.js';

/**
 * Opens a transport for a driver. A transport that cannot be opened is a StartupError the agent
 * retries (a serial adapter not plugged in yet, a serial server rebooting); a transport's own
 * StartupError keeps its `retryable` verdict (permission denied is not retryable).
 */
export async function openTransport(transport: ByteTransport): Promise<void> {
  try {
    await transport.open();
  } catch (err) {
    if (err instanceof StartupError) throw err;
    throw new StartupError(`cannot open ${transport.address}: ${describeError(err)}`, true, { cause: err });
  }
}
