/** The /metrics of one JT/T 808 server: sessions, frames by message id, replies, refusals and disconnects by reason. */
import type { Counter, MetricsRegistry } from '../../drivers/sdk/metrics.js';

/** Message ids a terminal may send that get a label of their own; any other id is counted as "other". */
const LABELLED = new Set([0x0001, 0x0002, 0x0003, 0x0100, 0x0102, 0x0200, 0x0704]);

const hex4 = (v: number): string => `0x${v.toString(16).toUpperCase().padStart(4, '0')}`;

export class Jt808Metrics {
  private readonly frames: Counter;
  private readonly replies: Counter;
  private readonly refusals: Counter;
  private readonly connections: Counter;
  private readonly disconnects: Counter;
  private readonly garbageBytes: Counter;

  constructor(
    m: MetricsRegistry,
    private readonly server: string,
    sessions: () => { connected: number; authenticated: number },
  ) {
    m.gauge(
      'citygrid_edge_jt808_sessions',
      'JT/T 808 connections open now, by server and state (connected: all open connections; authenticated: those routed to a vehicle).',
      (g) => {
        const s = sessions();
        g.set({ server, state: 'connected' }, s.connected);
        g.set({ server, state: 'authenticated' }, s.authenticated);
      },
    );
    this.frames = m.counter(
      'citygrid_edge_jt808_frames_total',
      'JT/T 808 frames received, by server and message id (0x0200 ...; "other" for ids this server does not serve, "undecodable" for frames the codec refused).',
    );
    this.replies = m.counter(
      'citygrid_edge_jt808_replies_total',
      'Replies sent to terminals, by server, message id (0x8001, 0x8100) and result (0 ok, 1 fail, 3 unsupported; 0x8100: 2 no such vehicle, 4 no such terminal).',
    );
    this.refusals = m.counter(
      'citygrid_edge_jt808_refusals_total',
      'Frames and connections a JT/T 808 server refused, by server and reason (bad-checksum, bad-frame, short-frame, too-long, bad-field, out-of-range, not-authenticated, unknown-terminal, wrong-vehicle, bad-auth-code, unsupported, phone-changed, auth-timeout, max-connections, buffer-overflow).',
    );
    this.connections = m.counter('citygrid_edge_jt808_connections_total', 'Terminal connections accepted, by server.');
    this.disconnects = m.counter(
      'citygrid_edge_jt808_disconnects_total',
      'Terminal connections ended, by server and reason (peer-closed, auth-timeout, heartbeat-timeout, replaced, buffer-overflow, max-connections, socket-error, server-stopped).',
    );
    this.garbageBytes = m.counter(
      'citygrid_edge_jt808_garbage_bytes_total',
      'Bytes outside any 7E...7E frame (line noise, an oversized frame), by server.',
    );
  }

  frame(msgId: number | undefined): void {
    const id = msgId === undefined ? 'undecodable' : LABELLED.has(msgId) ? hex4(msgId) : 'other';
    this.frames.inc({ server: this.server, msg_id: id });
  }

  reply(msgId: number, result: number): void {
    this.replies.inc({ server: this.server, msg_id: hex4(msgId), result: String(result) });
  }

  refused(reason: string): void {
    this.refusals.inc({ server: this.server, reason });
  }

  connected(): void {
    this.connections.inc({ server: this.server });
  }

  disconnected(reason: string): void {
    this.disconnects.inc({ server: this.server, reason });
  }

  garbage(bytes: number): void {
    this.garbageBytes.inc({ server: this.server }, bytes);
  }
}
