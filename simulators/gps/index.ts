export { type EncodeOptions, encodeGga, encodeRmc, type SimFix, sentence } from './nmea-encoder.js';
export { bearingDeg, distanceM, type LonLat, parsePath, Route } from './route.js';
export {
  epochBytes,
  type GpsSimulator,
  type GpsSimulatorOptions,
  type SentenceSink,
  startGpsSimulator,
} from './simulator.js';
export { seededRandom, Truck, type TruckOptions } from './truck.js';
