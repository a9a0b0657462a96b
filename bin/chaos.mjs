#!/usr/bin/env node
// `npm run chaos -- [--duration 300] [--rate 5] [--keep]`: registers the TypeScript loader (tsx)
// and runs the long chaos test (tests/chaos/main.ts). Exits 1 when a reading was lost or doubled.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../tests/chaos/main.ts');
process.exitCode = await main(process.argv.slice(2));
