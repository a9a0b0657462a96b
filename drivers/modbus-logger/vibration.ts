/**
 * High-rate acceleration reduced at the edge: a window of samples (g) -> RMS, peak and dominant
 * frequency. Pure. The mean is removed first: a vertical accelerometer reads gravity and a bias
 * that say nothing about vibration. The dominant frequency is the largest bin of a Hann-windowed
 * radix-2 FFT (zero-padded to a power of two), refined by parabolic interpolation of the log
 * magnitudes of its neighbours, so a 10 s window resolves well below its 0.1 Hz bin width.
 */

export interface VibrationSummary {
  accel_rms_g: number;
  accel_peak_g: number;
  /** 0 when the window carries no vibration at all (a flat line). */
  accel_freq_hz: number;
}

/** In-place iterative radix-2 FFT of (re, im); length must be a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] as number, re[i] as number];
      [im[i], im[j]] = [im[j] as number, im[i] as number];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const xr = (re[b] as number) * cr - (im[b] as number) * ci;
        const xi = (re[b] as number) * ci + (im[b] as number) * cr;
        re[b] = (re[a] as number) - xr;
        im[b] = (im[a] as number) - xi;
        re[a] = (re[a] as number) + xr;
        im[a] = (im[a] as number) + xi;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

/** Dominant frequency of zero-mean samples taken at `rateHz`, Hz. */
export function dominantFrequency(samples: ArrayLike<number>, rateHz: number): number {
  const n = samples.length;
  if (n < 4) return 0;
  let size = 1;
  while (size < n) size <<= 1;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < n; i++) re[i] = (samples[i] as number) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  fft(re, im);
  const mag = (k: number) => Math.hypot(re[k] as number, im[k] as number);
  let best = 0;
  let bestMag = 0;
  // bin 0 is what is left of the mean; skip it
  for (let k = 1; k < size / 2; k++) {
    const m = mag(k);
    if (m > bestMag) {
      bestMag = m;
      best = k;
    }
  }
  if (best === 0 || bestMag === 0) return 0;
  let delta = 0;
  if (best > 1 && best < size / 2 - 1) {
    const a = Math.log(mag(best - 1) || Number.MIN_VALUE);
    const b = Math.log(bestMag);
    const c = Math.log(mag(best + 1) || Number.MIN_VALUE);
    const den = a - 2 * b + c;
    if (den !== 0) delta = (0.5 * (a - c)) / den;
  }
  return ((best + delta) * rateHz) / size;
}

/** 6 significant digits, and nothing below 1 ng (the float noise of removing a mean). */
const round = (x: number, digits: number) => Number((Math.round(x * 1e9) / 1e9).toPrecision(digits));

/** RMS and peak (of the mean-removed signal) and dominant frequency of one window. */
export function summarizeVibration(samples: ArrayLike<number>, rateHz: number): VibrationSummary {
  const n = samples.length;
  if (n === 0) return { accel_rms_g: 0, accel_peak_g: 0, accel_freq_hz: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += samples[i] as number;
  const mean = sum / n;
  const centred = new Float64Array(n);
  let sq = 0;
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const x = (samples[i] as number) - mean;
    centred[i] = x;
    sq += x * x;
    peak = Math.max(peak, Math.abs(x));
  }
  const rms = Math.sqrt(sq / n);
  return {
    accel_rms_g: round(rms, 6),
    accel_peak_g: round(peak, 6),
    accel_freq_hz: rms > 1e-9 ? round(dominantFrequency(centred, rateHz), 4) : 0,
  };
}
