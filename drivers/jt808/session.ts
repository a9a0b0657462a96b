/**
 * One JT/T 808 terminal connection as a pure state machine (../shared/domain/4-jt808.md §4.4):
 * frames in + time in -> replies out + outcomes. No I/O and no clock: the server feeds it the
 * frames of one TCP connection with the time they arrived, and calls `tick` from its sweep.
 *
 *   connected --0x0100 known phone--> 0x8100 ok + auth code (still connected)
 *   connected --0x0102 right code---> authenticated (0x8001 ok)
 *   authenticated --0x0002/0x0200/0x0704--> 0x8001 ok (+ locations)
 *   authenticated --0x0003--> 0x8001 ok, auth code forgotten, connected (must register again)
 *   any state --no auth within authTimeoutMs / silence over heartbeatTimeoutMs--> close
 */
import { DecodeError, type DecodeReason } from '../sdk/errors.js';
import type { Location } from './codec.js';
import { decodeJt808, encodePlatformReply, encodeRegisterReply, type Jt808Header } from './codec.js';

/** 0x8001 results. */
export const RESULT = { ok: 0, fail: 1, messageError: 2, unsupported: 3 } as const;
/** 0x8100 results: 2 "no such vehicle", 4 "no such terminal". */
export const REGISTER_RESULT = { ok: 0, noSuchVehicle: 2, noSuchTerminal: 4 } as const;

/** Messages from a terminal this platform understands; every other id is answered "unsupported". */
const SUPPORTED = new Set([0x0001, 0x0002, 0x0003, 0x0100, 0x0102, 0x0200, 0x0704]);

/** A terminal of the gateway's vehicle list, as the session sees it. */
export interface Jt808Terminal {
  /** The device id (the vehicle id). */
  readonly device: string;
  /** Plate from the config; when set, a registration naming another plate is refused (result 2). */
  readonly plate?: string;
  /** The auth code issued last, kept across restarts by the caller. */
  authCode(): string | undefined;
  setAuthCode(code: string | undefined): void;
}

/** A `jt808-terminal` device as the server routes to it (a SessionDevice of protocol jt808). */
export interface Jt808SessionDevice extends Jt808Terminal {
  /** phoneKey of the configured phone. */
  readonly key: string;
  /** Outcomes of the sessions of this terminal (authenticated, location, unregistered). */
  deliver(outcome: Jt808Outcome): void;
  /** The authenticated session of this terminal ended (closed, timed out, replaced by none). */
  ended(reason: string): void;
}

export interface Jt808Directory {
  /** O(1) look-up by phone key (the BCD digits without leading zeros). */
  find(phoneKey: string): Jt808Terminal | undefined;
}

/** Why a frame got no service. The `reason` label of the refusals counter. */
export type RefusalReason =
  | DecodeReason
  | 'not-authenticated'
  | 'unknown-terminal'
  | 'wrong-vehicle'
  | 'bad-auth-code'
  | 'unsupported'
  | 'phone-changed';

export type Jt808Outcome =
  | { kind: 'registered'; device: string; phone: string }
  | { kind: 'authenticated'; device: string; phone: string; v2019: boolean }
  | { kind: 'unregistered'; device: string }
  | { kind: 'location'; device: string; location: Location; batch: boolean }
  | { kind: 'refused'; reason: RefusalReason; msgId?: number; phone?: string; detail: string }
  | { kind: 'close'; reason: 'auth-timeout' | 'heartbeat-timeout' };

/** A reply to send, with what it says (for counters and tests). */
export interface Jt808Reply {
  bytes: Buffer;
  msgId: 0x8001 | 0x8100;
  result: number;
}

export interface SessionStep {
  replies: Jt808Reply[];
  outcomes: Jt808Outcome[];
  /** Message id of the frame, when its header could be read (for per-id counters). */
  msgId?: number;
}

export interface SessionOptions {
  directory: Jt808Directory;
  /** Makes a fresh auth code (random; injected so tests are deterministic). */
  newAuthCode(): string;
  authTimeoutMs: number;
  heartbeatTimeoutMs: number;
  /** Serial of the first platform message. Default 0; the counter wraps at 0xFFFF. */
  firstSerial?: number;
}

export const phoneKey = (phone: string): string => phone.replace(/^0+/, '') || '0';

export class Jt808Session {
  private terminal: Jt808Terminal | undefined;
  private authenticated = false;
  /** The header the terminal speaks (version, phone as sent): replies are written in it. */
  private speaks: Jt808Header | undefined;
  private serial: number;
  private lastHeard: number;
  private closed = false;

  constructor(
    private readonly opts: SessionOptions,
    private readonly connectedAt: number,
  ) {
    this.lastHeard = connectedAt;
    this.serial = (opts.firstSerial ?? 0) & 0xffff;
  }

  get device(): string | undefined {
    return this.authenticated ? this.terminal?.device : undefined;
  }

  get isAuthenticated(): boolean {
    return this.authenticated;
  }

  /** Handles one frame (with its 7E flags) that arrived at `now`. */
  receive(frame: Buffer, now: number): SessionStep {
    const step: SessionStep = { replies: [], outcomes: [] };
    if (this.closed) return step;
    let decoded: ReturnType<typeof decodeJt808>;
    try {
      decoded = decodeJt808(frame);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      step.outcomes.push({ kind: 'refused', reason: err.reason, detail: err.message });
      return step;
    }
    const { header, body } = decoded;
    step.msgId = header.msgId;
    this.lastHeard = now;
    const key = phoneKey(header.phone);
    if (this.speaks && phoneKey(this.speaks.phone) !== key && this.terminal) {
      // one connection carries one terminal; a frame with another phone is not this terminal's
      step.outcomes.push({
        kind: 'refused',
        reason: 'phone-changed',
        msgId: header.msgId,
        phone: header.phone,
        detail: `frame from phone ${header.phone} on the connection of ${this.speaks.phone}`,
      });
      step.replies.push(this.reply(header, RESULT.fail));
      return step;
    }
    this.speaks = header;
    const refuse = (reason: RefusalReason, detail: string, result: number = RESULT.fail): SessionStep => {
      step.outcomes.push({ kind: 'refused', reason, msgId: header.msgId, phone: header.phone, detail });
      step.replies.push(this.reply(header, result));
      return step;
    };

    if (!SUPPORTED.has(header.msgId) || body.kind === 'raw') {
      refuse(
        'unsupported',
        header.packet || header.encryption
          ? `message 0x${hex4(header.msgId)} ${header.packet ? 'in sub-packages' : 'encrypted'} is not supported`
          : `message 0x${hex4(header.msgId)} is not supported`,
        RESULT.unsupported,
      );
      return step;
    }

    if (header.msgId === 0x0100) {
      const terminal = this.opts.directory.find(key);
      if (!terminal) {
        step.outcomes.push({
          kind: 'refused',
          reason: 'unknown-terminal',
          msgId: 0x0100,
          phone: header.phone,
          detail: `phone ${header.phone} is not in the gateway's vehicle list`,
        });
        step.replies.push(this.registerReply(header, REGISTER_RESULT.noSuchTerminal, ''));
        return step;
      }
      const plate = body.kind === 'register' ? body.plate.trim() : '';
      if (
        terminal.plate !== undefined &&
        body.kind === 'register' &&
        body.plateColor !== 0 &&
        plate !== terminal.plate
      ) {
        step.outcomes.push({
          kind: 'refused',
          reason: 'wrong-vehicle',
          msgId: 0x0100,
          phone: header.phone,
          detail: `terminal of ${terminal.device} registers plate "${plate}", the config says "${terminal.plate}"`,
        });
        step.replies.push(this.registerReply(header, REGISTER_RESULT.noSuchVehicle, ''));
        return step;
      }
      const code = this.opts.newAuthCode();
      terminal.setAuthCode(code);
      this.terminal = terminal;
      this.authenticated = false; // a re-registration starts over: the new code must be presented
      step.outcomes.push({ kind: 'registered', device: terminal.device, phone: header.phone });
      step.replies.push(this.registerReply(header, REGISTER_RESULT.ok, code));
      return step;
    }

    if (header.msgId === 0x0102 && body.kind === 'auth') {
      const terminal = this.opts.directory.find(key);
      if (!terminal) return refuse('unknown-terminal', `phone ${header.phone} is not in the gateway's vehicle list`);
      const code = terminal.authCode();
      if (code === undefined || body.authCode !== code)
        return refuse('bad-auth-code', `auth code refused for ${terminal.device}${code ? '' : ' (none issued)'}`);
      this.terminal = terminal;
      this.authenticated = true;
      step.outcomes.push({ kind: 'authenticated', device: terminal.device, phone: header.phone, v2019: header.v2019 });
      step.replies.push(this.reply(header, RESULT.ok));
      return step;
    }

    if (!this.authenticated || !this.terminal) {
      refuse('not-authenticated', `message 0x${hex4(header.msgId)} before authentication`);
      return step;
    }
    const device = this.terminal.device;
    switch (body.kind) {
      case 'location':
        step.outcomes.push({ kind: 'location', device, location: body.location, batch: false });
        break;
      case 'batch-location':
        for (const location of body.locations) step.outcomes.push({ kind: 'location', device, location, batch: true });
        break;
      case 'general-reply':
        return step; // a terminal's answer to a platform message: nothing to answer
      default:
        if (header.msgId === 0x0003) {
          this.terminal.setAuthCode(undefined);
          this.authenticated = false;
          step.outcomes.push({ kind: 'unregistered', device });
        }
    }
    step.replies.push(this.reply(header, RESULT.ok));
    return step;
  }

  /** Called by the server's sweep: says when the connection must be dropped. */
  tick(now: number): Jt808Outcome[] {
    if (this.closed) return [];
    if (!this.authenticated && now - this.connectedAt >= this.opts.authTimeoutMs) {
      this.closed = true;
      return [{ kind: 'close', reason: 'auth-timeout' }];
    }
    if (this.authenticated && now - this.lastHeard >= this.opts.heartbeatTimeoutMs) {
      this.closed = true;
      return [{ kind: 'close', reason: 'heartbeat-timeout' }];
    }
    return [];
  }

  private nextSerial(): number {
    const s = this.serial;
    this.serial = (this.serial + 1) & 0xffff;
    return s;
  }

  private replyHeader(h: Jt808Header) {
    return {
      v2019: h.v2019,
      phone: h.phone,
      serial: this.nextSerial(),
      ...(h.v2019 ? { protocolVersion: h.protocolVersion ?? 1 } : {}),
    };
  }

  private reply(h: Jt808Header, result: number): Jt808Reply {
    return { bytes: encodePlatformReply(this.replyHeader(h), h.serial, h.msgId, result), msgId: 0x8001, result };
  }

  private registerReply(h: Jt808Header, result: number, code: string): Jt808Reply {
    return { bytes: encodeRegisterReply(this.replyHeader(h), h.serial, result, code), msgId: 0x8100, result };
  }
}

const hex4 = (v: number): string => v.toString(16).toUpperCase().padStart(4, '0');
