import { pino } from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Builds the root logger of a process. Only composition roots (hub/edge/sim main, the CLI) call
 * this; everything else receives a child logger with its component and ids bound, e.g.
 * `log.child({ component: 'edge.driver', device: 'XH-GP001' })`.
 */
export function createLogger(opts: { name: string; level?: LogLevel; destination?: pino.DestinationStream }): Logger {
  const options: pino.LoggerOptions = {
    name: opts.name,
    level: opts.level ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that discards everything; for unit tests of one module. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
