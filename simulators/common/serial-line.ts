/**
 * A simulator's end of a serial line (RS-485 bus, pty end): bytes out, chunks in, close. Opened
 * on a tty path with serialport, or any object of this shape in unit tests.
 */
import { SerialPort } from 'serialport';

export interface SerialLine {
  write(data: Buffer): void;
  onData(listener: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

export type Parity = 'none' | 'even' | 'odd';

export interface LineSettings {
  baudRate: number;
  parity: Parity;
  /** Default 8. */
  dataBits?: 7 | 8;
  /** Default 1. */
  stopBits?: 1 | 2;
}

/**
 * Opens `path` with the line settings a real RS-485 adapter needs. A pty ignores them (socat ptys
 * are always raw CS8 without pacing), so timing is simulated by the caller (see bitsPerCharacter).
 */
export async function openSerialLine(path: string, settings: LineSettings): Promise<SerialLine> {
  const port = new SerialPort({
    path,
    baudRate: settings.baudRate,
    parity: settings.parity,
    dataBits: settings.dataBits ?? 8,
    stopBits: settings.stopBits ?? 1,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => undefined);
  return {
    write: (data) => void port.write(data),
    onData: (listener) => void port.on('data', listener),
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}

/** Bits one character takes on the wire: start + data + parity + stop. */
export function bitsPerCharacter(settings: LineSettings): number {
  return 1 + (settings.dataBits ?? 8) + (settings.parity === 'none' ? 0 : 1) + (settings.stopBits ?? 1);
}
