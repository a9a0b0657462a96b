/**
 * `citygrid` command line. Each subcommand lives in bin/commands/<name>.ts and is loaded on
 * demand, so `citygrid decode` does not pay for the hub's dependencies.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }> = {
  hub: {
    summary: 'hub --config <hub.yaml>          run the hub (broker, ingest, sink, HTTP API)',
    load: () => import('./commands/hub.js'),
  },
  edge: { summary: 'edge --config <gateway.yaml>     run an edge agent', load: () => import('./commands/edge.js') },
  sim: { summary: 'sim gps --out <tty> [...]        run a device simulator', load: () => import('./commands/sim.js') },
  demo: {
    summary: 'demo [--http-port N]             hub + one edge per district + simulators',
    load: () => import('./commands/demo.js'),
  },
  cases: {
    summary: "cases list|show|transition [...]    the hub's cases over its HTTP API (--hub URL)",
    load: () => import('./commands/cases.js'),
  },
  config: { summary: 'config validate <file>... | schema [--write]', load: () => import('./commands/config.js') },
  docs: {
    summary: 'docs --write | --check             regenerate the reference sections of README.md',
    load: () => import('./commands/docs.js'),
  },
  'hash-password': {
    summary: 'hash-password < password         print the scrypt hash for passwordHash: in the hub config',
    load: () => import('./commands/hash-password.js'),
  },
  decode: {
    summary: 'decode <nmea> <hex|text>          decode one frame and print it as JSON',
    load: () => import('./commands/decode.js'),
  },
};

export function usage(): string {
  return [
    'usage: citygrid <command> [options]',
    '',
    ...Object.values(COMMANDS).map((c) => `  citygrid ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`citygrid: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}
