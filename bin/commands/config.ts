import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  detectConfigKind,
  loadCityConfig,
  loadConfigFile,
  loadGatewayConfig,
  loadHubConfig,
} from '../../config/load.js';
import { catalogueSchema } from '../../config/schema/catalogue.js';
import { jsonSchemas } from '../../config/schema/json-schema.js';
import { rulesConfigSchema } from '../../config/schema/rules.js';
import { driverOptionsValidator } from '../../drivers/index.js';
import { ConfigError } from '../../drivers/sdk/errors.js';
import { createWorkCalendar } from '../../hub/src/cases/calendar.js';
import { createCatalogue, loadCatalogue, loadRules } from '../../hub/src/cases/catalogue.js';

const GENERATED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/generated');

function validateOne(file: string): number {
  const kind = detectConfigKind(file);
  try {
    if (kind === 'hub') loadHubConfig(file);
    else if (kind === 'gateway') loadGatewayConfig(file, driverOptionsValidator);
    else if (kind === 'city') {
      // The catalogue and rules a city names are part of it: their mistakes are the city's too.
      const city = loadCityConfig(file);
      const calendar = createWorkCalendar(city.workCalendar, city.city.timezone);
      loadRules(file, city.rules, createCatalogue(loadCatalogue(file, city.catalogue), calendar.workDayMs));
    } else if (kind === 'catalogue') loadConfigFile(file, catalogueSchema);
    else if (kind === 'rules') loadConfigFile(file, rulesConfigSchema);
    else {
      console.error(
        `${file}: cannot tell what kind of config this is (expected a hub, gateway, city, catalogue or rules config)`,
      );
      return 1;
    }
    console.log(`${file}: ok (${kind} config)`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${file}: ${err.issues.length} problem${err.issues.length > 1 ? 's' : ''}`);
    for (const i of err.issues) console.error(`  ${i.file}: ${i.path || '(root)'}: ${i.message}`);
    return 1;
  }
}

/** `citygrid config validate <file>...` and `citygrid config schema [--write | --check]`. */
export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'validate' && rest.length > 0) {
    let rc = 0;
    for (const file of rest) rc = Math.max(rc, validateOne(file));
    return rc;
  }
  if (sub === 'schema') {
    const schemas = jsonSchemas();
    if (rest.includes('--write') || rest.includes('--check')) {
      let stale = 0;
      mkdirSync(GENERATED, { recursive: true });
      for (const [name, schema] of Object.entries(schemas)) {
        const file = path.join(GENERATED, `${name}.schema.json`);
        const text = `${JSON.stringify(schema, null, 2)}\n`;
        let current = '';
        try {
          current = readFileSync(file, 'utf8');
        } catch {}
        if (current === text) continue;
        if (rest.includes('--check')) {
          console.error(`${file} is stale: run npm run schema`);
          stale++;
        } else writeFileSync(file, text);
      }
      return stale ? 1 : 0;
    }
    console.log(JSON.stringify(schemas, null, 2));
    return 0;
  }
  console.error('usage: citygrid config validate <file>... | citygrid config schema [--write | --check]');
  return 2;
}
