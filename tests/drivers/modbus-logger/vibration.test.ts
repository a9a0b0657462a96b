/** Vibration summary on synthetic signals: RMS, peak and dominant frequency of known sines. */
import { describe, expect, it } from 'vitest';
import { dominantFrequency, summarizeVibration } from '../../../drivers/modbus-logger/vibration.js';
import { seededRandom } from '../../../simulators/common/random.js';

const RATE = 100;
function sine(freq: number, amp: number, seconds = 10, phase = 0.3): number[] {
  return Array.from({ length: seconds * RATE }, (_, i) => amp * Math.sin(2 * Math.PI * freq * (i / RATE) + phase));
}
const add = (...signals: number[][]) =>
  (signals[0] as number[]).map((_, i) => signals.reduce((s, x) => s + (x[i] as number), 0));

describe('summarizeVibration', () => {
  it.each([0.8, 2.37, 7.5, 18.2, 41])('finds a %s Hz sine within 0.02 Hz, RMS = A/√2, peak = A', (f) => {
    const s = summarizeVibration(sine(f, 0.05), RATE);
    expect(Math.abs(s.accel_freq_hz - f)).toBeLessThan(0.02);
    expect(s.accel_rms_g).toBeCloseTo(0.05 / Math.SQRT2, 3);
    expect(s.accel_peak_g).toBeCloseTo(0.05, 3);
  });

  it('removes the mean (gravity on a vertical sensor) before RMS and peak', () => {
    const s = summarizeVibration(
      sine(3, 0.02).map((x) => x + 1),
      RATE,
    );
    expect(s.accel_rms_g).toBeCloseTo(0.02 / Math.SQRT2, 3);
    expect(s.accel_peak_g).toBeCloseTo(0.02, 3);
    expect(s.accel_freq_hz).toBeCloseTo(3, 1);
  });

  it('picks the stronger of two modes, and finds it under noise', () => {
    const random = seededRandom(7);
    const noise = Array.from({ length: 10 * RATE }, () => (random() - 0.5) * 0.02);
    const s = summarizeVibration(add(sine(1.9, 0.01), sine(5.6, 0.03), noise), RATE);
    expect(s.accel_freq_hz).toBeCloseTo(5.6, 1);
  });

  it('a flat line has no frequency, and an empty window is all zeros', () => {
    expect(summarizeVibration(new Array(500).fill(0.98), RATE)).toEqual({
      accel_rms_g: 0,
      accel_peak_g: 0,
      accel_freq_hz: 0,
    });
    expect(summarizeVibration([], RATE)).toEqual({ accel_rms_g: 0, accel_peak_g: 0, accel_freq_hz: 0 });
  });

  it('works on a window that is not a power of two long (zero padding)', () => {
    expect(dominantFrequency(sine(12.5, 1, 3), RATE)).toBeCloseTo(12.5, 1);
  });
});
