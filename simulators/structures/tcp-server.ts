/**
 * A simulated Modbus TCP logger: a server on loopback answering every complete MBAP frame it
 * receives, several requests in flight per connection, each answer carrying its request's
 * transaction id. Answers leave after a jittered latency, so pipelined requests may be answered
 * out of order (a client has to match transaction ids, as the spec asks of it).
 */
import net from 'node:net';
import { encodeMbap, MbapFramer, MbapFramingError } from './mbap.js';
import { answerPdu, EXCEPTION, exceptionPdu, type ModbusSlave } from './modbus-pdu.js';

export interface ModbusTcpServerOptions {
  /** The slave(s) behind this endpoint by unit id. A logger has one; a gateway has several. */
  slaves: ReadonlyMap<number, ModbusSlave>;
  /** Default 127.0.0.1: simulators never listen beyond loopback. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Mean time from request to answer, ms (±50 % jitter). Default 2. */
  latencyMs?: number;
  /** Requests one connection may have waiting; more get exception 06 (busy). Default 16. */
  maxInFlight?: number;
  /** Connections at once; more are closed at once. Default 16. */
  maxConnections?: number;
  /** Random source in [0, 1) for the jitter. */
  random?: () => number;
}

export interface ModbusTcpStats {
  connections: number;
  requests: number;
  answers: number;
  exceptions: number;
  /** Connections closed because the stream was not Modbus TCP. */
  framingErrors: number;
}

/**
 * Misbehaviour for drills and bad-input tests: `silent` answers nothing (a hung device),
 * `close-mid-frame` sends half of each answer and closes the connection, `device-failure` answers
 * every request with exception 04.
 */
export const TCP_FAULTS = ['none', 'silent', 'close-mid-frame', 'device-failure'] as const;
export type TcpFault = (typeof TCP_FAULTS)[number];

export interface ModbusTcpServer {
  readonly host: string;
  readonly port: number;
  readonly stats: ModbusTcpStats;
  /** Current misbehaviour; 'none' by default. */
  fault: TcpFault;
  close(): Promise<void>;
}

/**
 * With a single slave, units 0 and 255 also reach it: on TCP the unit id is meaningless for a
 * device that is not a gateway, and both values are what clients send then. Other unit ids get
 * exception 0B (gateway target device failed to respond).
 */
function slaveFor(slaves: ReadonlyMap<number, ModbusSlave>, unitId: number): ModbusSlave | undefined {
  const direct = slaves.get(unitId);
  if (direct) return direct;
  if (slaves.size === 1 && (unitId === 0 || unitId === 255)) return slaves.values().next().value;
  return undefined;
}

export function startModbusTcpServer(opts: ModbusTcpServerOptions): Promise<ModbusTcpServer> {
  const host = opts.host ?? '127.0.0.1';
  const latencyMs = opts.latencyMs ?? 2;
  const maxInFlight = opts.maxInFlight ?? 16;
  const maxConnections = opts.maxConnections ?? 16;
  const random = opts.random ?? Math.random;
  const stats: ModbusTcpStats = { connections: 0, requests: 0, answers: 0, exceptions: 0, framingErrors: 0 };
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;
  const state = { fault: 'none' as TcpFault };

  const server = net.createServer((socket) => {
    if (closing || sockets.size >= maxConnections) {
      socket.destroy();
      return;
    }
    stats.connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    const framer = new MbapFramer();
    let inFlight = 0;
    const reply = (frame: Buffer, isException: boolean) => {
      stats.answers++;
      if (isException) stats.exceptions++;
      if (!socket.destroyed) socket.write(frame);
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: ReturnType<MbapFramer['push']>;
      try {
        frames = framer.push(chunk);
      } catch (err) {
        if (!(err instanceof MbapFramingError)) throw err;
        stats.framingErrors++;
        socket.destroy();
        return;
      }
      for (const f of frames) {
        stats.requests++;
        const fc = f.pdu[0] as number;
        if (inFlight >= maxInFlight) {
          reply(encodeMbap(f.transactionId, f.unitId, exceptionPdu(fc, EXCEPTION.busy)), true);
          continue;
        }
        const slave = slaveFor(opts.slaves, f.unitId);
        // the answer is computed when it leaves, so it shows the values of that moment
        const answer = () =>
          slave ? answerPdu(slave, { fc, data: f.pdu.subarray(1) }) : exceptionPdu(fc, EXCEPTION.gatewayTargetFailed);
        inFlight++;
        const timer = setTimeout(
          () => {
            timers.delete(timer);
            inFlight--;
            if (state.fault === 'silent') return;
            const pdu = state.fault === 'device-failure' ? exceptionPdu(fc, EXCEPTION.slaveDeviceFailure) : answer();
            const frame = encodeMbap(f.transactionId, f.unitId, pdu);
            if (state.fault === 'close-mid-frame') {
              if (!socket.destroyed) socket.end(frame.subarray(0, Math.ceil(frame.length / 2)));
              return;
            }
            reply(frame, ((pdu[0] as number) & 0x80) !== 0);
          },
          latencyMs * (0.5 + random()),
        );
        timers.add(timer);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as net.AddressInfo;
      resolve({
        host,
        port,
        stats,
        get fault() {
          return state.fault;
        },
        set fault(mode: TcpFault) {
          if (!TCP_FAULTS.includes(mode)) throw new RangeError(`TCP fault must be one of ${TCP_FAULTS.join(', ')}`);
          state.fault = mode;
        },
        close: () =>
          new Promise<void>((done) => {
            closing = true;
            for (const t of timers) clearTimeout(t);
            timers.clear();
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
