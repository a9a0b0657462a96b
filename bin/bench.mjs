#!/usr/bin/env node
// `npm run bench -- <name> [options]`: registers the TypeScript loader (tsx) and runs
// tests/bench/<name>.ts, whose `main(args)` prints JSON lines on stdout (progress on stderr).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const benchDir = fileURLToPath(new URL('../tests/bench/', import.meta.url));
const available = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(2);
}
register();
const { main } = await import(`../tests/bench/${name}.ts`);
process.exitCode = await main(args);
