/** Typed errors of Modbus reads, shared by the RTU and TCP paths. */
import { CitygridError, DeviceError } from '../sdk/errors.js';

/** The device answered with a Modbus exception (code 1..11). */
export class ModbusExceptionError extends DeviceError {
  readonly exceptionName: string;
  constructor(code: number, name: string, fn: number) {
    super(code, `exception ${code} (${name}) to function ${fn}`);
    this.exceptionName = name;
  }
}

/** Why a request got no answer: `timeout`, `not-connected`, `connection-lost`, `queue-full`, `stopped`. */
export class ModbusRequestError extends CitygridError {
  readonly reason: 'timeout' | 'not-connected' | 'connection-lost' | 'queue-full' | 'stopped';
  constructor(reason: ModbusRequestError['reason'], message: string) {
    super('MODBUS_NO_ANSWER', message);
    this.reason = reason;
  }
}
