/**
 * The structure simulators' own Modbus PDU layer, shared by the TCP server and the RTU slaves:
 * a slave's register image and its answer to a request PDU (03, 04, 06, 16 and the exceptions).
 * Deliberately independent of drivers/modbus: a bug shared by both sides would cancel out.
 * Facts: ../shared/domain/2-modbus.md §2.2 (functions, limits, exception codes).
 */

export const EXCEPTION = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  slaveDeviceFailure: 0x04,
  busy: 0x06,
  gatewayTargetFailed: 0x0b,
} as const;

export type RegisterTable = 'input' | 'holding';

/**
 * A slave as the PDU layer sees it. `read` returns the registers or undefined when any of them
 * does not exist (illegal data address); `write` returns an exception code to refuse a value.
 */
export interface ModbusSlave {
  read(table: RegisterTable, start: number, quantity: number): number[] | undefined;
  /** Undefined = accepted; otherwise the exception code (02 no such register, 03 value refused). */
  write(start: number, values: readonly number[]): number | undefined;
}

/** A request PDU as decoded by the simulator (after MBAP or RTU framing). */
export interface RequestPdu {
  fc: number;
  /** The PDU bytes after the function code. */
  data: Buffer;
}

export function exceptionPdu(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}

function readAnswer(fc: number, registers: readonly number[]): Buffer {
  const out = Buffer.alloc(2 + registers.length * 2);
  out[0] = fc;
  out[1] = registers.length * 2;
  registers.forEach((r, i) => {
    out.writeUInt16BE(r & 0xffff, 2 + i * 2);
  });
  return out;
}

/** The answer PDU of `slave` to `req`: a normal response or an exception, never nothing. */
export function answerPdu(slave: ModbusSlave, req: RequestPdu): Buffer {
  const { fc, data } = req;
  switch (fc) {
    case 0x03:
    case 0x04: {
      // [2-modbus §2.2] start(2) qty(2); qty 1..125
      if (data.length !== 4) return exceptionPdu(fc, EXCEPTION.illegalDataValue);
      const start = data.readUInt16BE(0);
      const quantity = data.readUInt16BE(2);
      if (quantity < 1 || quantity > 125) return exceptionPdu(fc, EXCEPTION.illegalDataValue);
      if (start + quantity > 0x10000) return exceptionPdu(fc, EXCEPTION.illegalDataAddress);
      const regs = slave.read(fc === 0x03 ? 'holding' : 'input', start, quantity);
      return regs ? readAnswer(fc, regs) : exceptionPdu(fc, EXCEPTION.illegalDataAddress);
    }
    case 0x06: {
      // [2-modbus §2.2] addr(2) value(2); the answer echoes the request
      if (data.length !== 4) return exceptionPdu(fc, EXCEPTION.illegalDataValue);
      const code = slave.write(data.readUInt16BE(0), [data.readUInt16BE(2)]);
      return code === undefined ? Buffer.from([fc, ...data]) : exceptionPdu(fc, code);
    }
    case 0x10: {
      // [2-modbus §2.2] start(2) qty(2) bytecount(1) values; qty 1..123; answer start qty
      if (data.length < 5) return exceptionPdu(fc, EXCEPTION.illegalDataValue);
      const start = data.readUInt16BE(0);
      const quantity = data.readUInt16BE(2);
      const byteCount = data[4] as number;
      if (quantity < 1 || quantity > 123 || byteCount !== quantity * 2 || data.length !== 5 + byteCount)
        return exceptionPdu(fc, EXCEPTION.illegalDataValue);
      if (start + quantity > 0x10000) return exceptionPdu(fc, EXCEPTION.illegalDataAddress);
      const values: number[] = [];
      for (let i = 0; i < quantity; i++) values.push(data.readUInt16BE(5 + i * 2));
      const code = slave.write(start, values);
      return code === undefined ? Buffer.from([fc, ...data.subarray(0, 4)]) : exceptionPdu(fc, code);
    }
    default:
      return exceptionPdu(fc, EXCEPTION.illegalFunction);
  }
}

/**
 * Bytes of the request PDU that follow the function code, or undefined when the function's
 * request has no size known from its header (RTU framing needs the length before the CRC can be
 * checked). `available` is what has arrived after the function code; 15 and 16 need their byte
 * count first.
 */
export function requestDataLength(fc: number, available: Buffer): number | 'more' | undefined {
  // 01/02/05 (coils, discrete inputs) are sized too, so a slave can refuse them at once with 01
  if (fc >= 0x01 && fc <= 0x06) return 4;
  if (fc === 0x0f || fc === 0x10) {
    if (available.length < 5) return 'more';
    return 5 + (available[4] as number);
  }
  return undefined;
}
