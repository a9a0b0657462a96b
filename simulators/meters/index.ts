export {
  type BusLine,
  corrupt,
  type MeterBus,
  type MeterBusOptions,
  type MeterBusStats,
  startMeterBus,
} from './bus.js';
export { demandShape, MeterFlow, type MeterFlowOptions } from './consumption.js';
export type { BusRequest, Cjt188Request, ModbusRequest } from './line-framer.js';
export { LineFramer } from './line-framer.js';
export { type MeterProtocol, type MeterSpec, SimMeter } from './meter.js';
export { applyMode, generateMeters, type MeterMode, parseMeterList } from './spec.js';
