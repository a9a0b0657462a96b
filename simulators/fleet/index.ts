export { type Fleet, type FleetOptions, formatSummary, startFleet } from './fleet.js';
export { planRoute } from './route-plan.js';
export { cityFleet, phonesFromGateway, syntheticFleet, tunnelPoints } from './vehicles.js';
