/**
 * Modbus TCP framing for the simulator (its own, not the driver's): the 7-byte MBAP header =
 * transaction id (2) + protocol id 00 00 (2) + length (2, = 1 + PDU length) + unit id (1), then
 * the PDU, no CRC. [2-modbus §2.1]
 */

export const MBAP_HEADER_LENGTH = 7;
/** A PDU is at most 253 bytes, so the length field is at most 254. [Modbus Application Protocol V1.1b3 §4.1] */
export const MAX_PDU_LENGTH = 253;

export interface MbapFrame {
  transactionId: number;
  protocolId: number;
  unitId: number;
  pdu: Buffer;
}

export function encodeMbap(transactionId: number, unitId: number, pdu: Buffer): Buffer {
  const out = Buffer.alloc(MBAP_HEADER_LENGTH + pdu.length);
  out.writeUInt16BE(transactionId & 0xffff, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(pdu.length + 1, 4);
  out[6] = unitId & 0xff;
  pdu.copy(out, MBAP_HEADER_LENGTH);
  return out;
}

/** Thrown when the stream cannot be resynchronised: the connection has to be closed. */
export class MbapFramingError extends Error {
  constructor(
    readonly reason: 'bad-length' | 'bad-protocol',
    message: string,
  ) {
    super(message);
    this.name = 'MbapFramingError';
  }
}

/**
 * Cuts a TCP byte stream into MBAP frames; a frame split across chunks waits for its rest.
 * A length outside 2..254 or a protocol id other than 0 means the stream is not Modbus (or lost
 * sync): there is no resync marker in MBAP, so the caller closes the connection.
 */
export class MbapFramer {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): MbapFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: MbapFrame[] = [];
    while (this.buf.length >= MBAP_HEADER_LENGTH) {
      const protocolId = this.buf.readUInt16BE(2);
      const length = this.buf.readUInt16BE(4);
      if (protocolId !== 0) throw new MbapFramingError('bad-protocol', `protocol id ${protocolId} is not Modbus (0)`);
      if (length < 2 || length > MAX_PDU_LENGTH + 1)
        throw new MbapFramingError('bad-length', `MBAP length ${length} is outside 2..${MAX_PDU_LENGTH + 1}`);
      const total = MBAP_HEADER_LENGTH - 1 + length;
      if (this.buf.length < total) break;
      frames.push({
        transactionId: this.buf.readUInt16BE(0),
        protocolId,
        unitId: this.buf[6] as number,
        pdu: Buffer.from(this.buf.subarray(MBAP_HEADER_LENGTH, total)),
      });
      this.buf = this.buf.subarray(total);
    }
    return frames;
  }

  /** Bytes of a frame not yet complete. */
  get pending(): number {
    return this.buf.length;
  }
}
