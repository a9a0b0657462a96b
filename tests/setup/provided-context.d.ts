// Values the integration global setup (tests/setup/global-setup.ts) hands to tests via `inject()`.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the private influxd started for this test run, e.g. http://127.0.0.1:41234. */
    influxUrl: string;
  }
}
