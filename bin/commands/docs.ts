import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderReadme } from '../lib/reference-docs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `citygrid docs --write | --check`: the generated reference sections of README.md. */
export async function run(args: string[]): Promise<number> {
  const file = path.join(ROOT, 'README.md');
  const current = readFileSync(file, 'utf8');
  const next = renderReadme(current, ROOT);
  if (args.includes('--check')) {
    if (current === next) return 0;
    console.error('README.md reference sections are stale: run `npm run docs`');
    return 1;
  }
  if (args.includes('--write')) {
    if (current !== next) writeFileSync(file, next);
    return 0;
  }
  process.stdout.write(next);
  return 0;
}
