/**
 * The shipped logger models, one file each (like zigbee2mqtt's device list). A device names one
 * with `model:` in its options, or brings its own map inline. Plain data: the structure
 * simulators build their registers from these same maps.
 */
import type { RegisterMapInput } from '../../modbus/register-map.js';
import { brgDl1 } from './brg-dl-1.js';
import { rws1 } from './rws-1.js';
import { tunEnv1 } from './tun-env-1.js';
import { upsWl1 } from './ups-wl-1.js';

export { brgDl1, rws1, tunEnv1, upsWl1 };

export const LOGGER_MODELS: Readonly<Record<string, RegisterMapInput>> = {
  [brgDl1.model]: brgDl1,
  [tunEnv1.model]: tunEnv1,
  [upsWl1.model]: upsWl1,
  [rws1.model]: rws1,
};
