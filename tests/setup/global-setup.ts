/**
 * vitest globalSetup of the `integration` project: starts one private influxd for the whole run
 * and hands its URL to tests (`inject('influxUrl')`). Each test uses its own database name, so
 * tests stay independent while sharing the process.
 *
 * A missing influxd is a failure, never a skip: integration tests always run (CI=true or not).
 * `npm test` (tests/setup/run-tests.sh) installs it first when it can.
 */
import type { TestProject } from 'vitest/node';
import { influxdAvailable, startInfluxd } from '../helpers/influxd.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!influxdAvailable()) {
    const hint =
      'install the Debian package `influxdb` (apt-get install -y --no-install-recommends influxdb) or set INFLUXD_PATH';
    throw new Error(
      `influxd not found: integration tests need a real InfluxDB 1.x; ${hint}${process.env.CI === 'true' ? ' (CI=true)' : ''}`,
    );
  }
  const influxd = await startInfluxd();
  project.provide('influxUrl', influxd.url);
  return async () => {
    await influxd.stop();
  };
}
