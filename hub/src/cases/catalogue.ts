/**
 * The catalogue at run time: class lookup by category and the time limits of a (category,
 * urgency), with work days converted at the city calendar's length of a working day.
 */

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../../config/load.js';
import {
  type CaseClass,
  type CatalogueConfig,
  type CategoryKey,
  catalogueSchema,
  categoryKey,
  parseTimeLimit,
  type TimeLimit,
  type Urgency,
} from '../../../config/schema/catalogue.js';
import { type RulesConfig, rulesConfigSchema } from '../../../config/schema/rules.js';
import { ConfigError, type ConfigIssue } from '../../../drivers/sdk/errors.js';
import { UnknownCategoryError } from './errors.js';

export interface StageLimits {
  dispatch: TimeLimit;
  handle: TimeLimit;
  verify?: TimeLimit;
}

export interface Catalogue {
  /** The class of a category; throws UnknownCategoryError. */
  get(category: string): CaseClass;
  has(category: string): boolean;
  /** Limits for the urgency, else those of the class's default urgency. */
  limits(category: string, urgency: Urgency): StageLimits;
  categories(): CategoryKey[];
}

/** The catalogue shipped with citygrid, used when the city config names none. */
export const DEFAULT_CATALOGUE_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../config/examples/catalogue.yaml',
);

/** Loads the catalogue a city config names (relative to the city file), or the shipped one. */
export function loadCatalogue(cityFile: string, catalogue: string | undefined): CatalogueConfig {
  const file = catalogue ? path.resolve(path.dirname(path.resolve(cityFile)), catalogue) : DEFAULT_CATALOGUE_FILE;
  return loadConfigFile(file, catalogueSchema);
}

export function createCatalogue(config: CatalogueConfig, workDayMs: number): Catalogue {
  const byKey = new Map<string, CaseClass>();
  for (const c of config.classes) byKey.set(categoryKey(c.kind, c.code), c);
  const get = (category: string): CaseClass => {
    const c = byKey.get(category);
    if (!c) throw new UnknownCategoryError(category);
    return c;
  };
  const toLimit = (text: string) => parseTimeLimit(text, workDayMs) as TimeLimit;
  return {
    get,
    has: (category) => byKey.has(category),
    limits(category, urgency) {
      const c = get(category);
      const l = c.limits[urgency] ?? c.limits[c.defaultUrgency];
      if (!l) throw new UnknownCategoryError(`${category} (no limits)`);
      return {
        dispatch: toLimit(l.dispatch),
        handle: toLimit(l.handle),
        ...(l.verify !== undefined ? { verify: toLimit(l.verify) } : {}),
      };
    },
    categories: () => [...byKey.keys()] as CategoryKey[],
  };
}

/** The rules shipped with citygrid, used when the city config names none. */
export const DEFAULT_RULES_FILE = path.resolve(path.dirname(DEFAULT_CATALOGUE_FILE), 'rules.yaml');

/**
 * Loads the rules a city config names (or the shipped ones) and checks each rule's category
 * against the catalogue, reporting unknown ones with the file and path like any config mistake.
 */
export function loadRules(cityFile: string, rules: string | undefined, catalogue: Catalogue): RulesConfig {
  const file = rules ? path.resolve(path.dirname(path.resolve(cityFile)), rules) : DEFAULT_RULES_FILE;
  const config = loadConfigFile(file, rulesConfigSchema);
  const issues: ConfigIssue[] = [];
  config.rules.forEach((r, i) => {
    if (!catalogue.has(r.category)) {
      issues.push({ file, path: `rules[${i}].category`, message: `category "${r.category}" is not in the catalogue` });
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}
