/**
 * Builds the operator console (hub/console/src -> hub/console/dist) with esbuild, in-process.
 * `npm run build` runs it; the hub calls ensureConsoleBuilt() at start, so a fresh clone, the demo
 * and the tests need no extra step: the bundle is rebuilt when missing or older than any source.
 * Leaflet's and uPlot's CSS are bundled into app.css (their images inlined), so the page loads
 * nothing from another origin.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONSOLE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const CONSOLE_DIST = path.join(CONSOLE_DIR, 'dist');
const SOURCES = [path.join(CONSOLE_DIR, 'src'), path.join(CONSOLE_DIR, 'index.html')];

function newestMtime(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

/** True when dist/app.js and app.css exist and are newer than every source file. */
export function consoleIsFresh(): boolean {
  const outputs = ['app.js', 'app.css'].map((f) => path.join(CONSOLE_DIST, f));
  if (!outputs.every((f) => existsSync(f))) return false;
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return SOURCES.every((s) => newestMtime(s) <= built);
}

export interface ConsoleBuild {
  built: boolean;
  ms: number;
  bytes?: { js: number; css: number };
}

/** Bundles the console; `minify` for production (the default). */
export async function buildConsole(opts: { minify?: boolean } = {}): Promise<ConsoleBuild> {
  const t0 = performance.now();
  const esbuild = await import('esbuild');
  mkdirSync(CONSOLE_DIST, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(CONSOLE_DIR, 'src/main.ts') },
    outdir: CONSOLE_DIST,
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: opts.minify ?? true,
    sourcemap: 'linked',
    loader: { '.png': 'dataurl', '.svg': 'dataurl' },
    logLevel: 'silent',
    legalComments: 'none',
    write: false,
  });
  // Written beside and renamed: a hub starting meanwhile never serves half a file.
  for (const f of result.outputFiles) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  const size = (f: string) => statSync(path.join(CONSOLE_DIST, f)).size;
  return { built: true, ms: Math.round(performance.now() - t0), bytes: { js: size('app.js'), css: size('app.css') } };
}

let pending: Promise<ConsoleBuild> | undefined;

/** Builds the console unless the bundle is fresh; concurrent callers share one build. */
export function ensureConsoleBuilt(): Promise<ConsoleBuild> {
  if (consoleIsFresh()) return Promise.resolve({ built: false, ms: 0 });
  pending ??= buildConsole().finally(() => {
    pending = undefined;
  });
  return pending;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await buildConsole({ minify: !process.argv.includes('--dev') });
  process.stdout.write(`${JSON.stringify({ console: CONSOLE_DIST, ...result })}\n`);
}
