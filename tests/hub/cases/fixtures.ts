/** Shared fixture of the case-core unit tests: the example city's catalogue and calendar. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { loadCityConfig } from '../../../config/load.js';
import { createWorkCalendar } from '../../../hub/src/cases/calendar.js';
import { createCatalogue, loadCatalogue } from '../../../hub/src/cases/catalogue.js';
import type { Actor } from '../../../hub/src/cases/model.js';
import { type CaseStore, openCaseStore } from '../../../hub/src/cases/store.js';
import type { WorkflowContext } from '../../../hub/src/cases/workflow.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CITY_FILE = path.join(ROOT, 'config/examples/city.yaml');
export const city = loadCityConfig(CITY_FILE);
export const calendar = createWorkCalendar(city.workCalendar, city.city.timezone);
export const catalogue = createCatalogue(loadCatalogue(CITY_FILE, city.catalogue), calendar.workDayMs);
export const ctx: WorkflowContext = { catalogue, calendar };

/** Local Shanghai time "YYYY-MM-DD HH:MM" as an instant. */
export const sh = (t: string) => Date.parse(`${t.replace(' ', 'T')}:00+08:00`);
export const MIN = 60_000;
export const HOUR = 3_600_000;

export const supervisor: Actor = { id: 'sup-1', role: 'city_supervisor' };
export const commander: Actor = { id: 'cmd-xh', role: 'district_commander' };
export const handler: Actor = { id: 'h-bt-1', role: 'unit_handler' };
export const system: Actor = { id: 'hub', role: 'system' };

/**
 * Temp dirs and case stores for one test file, closed and removed after each test. Call at the
 * top level of the file (it registers an afterEach).
 */
export function tempCaseStores(prefix: string): { tmpDir: () => string; open: (dir: string) => CaseStore } {
  const dirs: string[] = [];
  const stores: CaseStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    tmpDir: () => {
      const d = mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    open: (dir) => {
      const s = openCaseStore(dir);
      stores.push(s);
      return s;
    },
  };
}
