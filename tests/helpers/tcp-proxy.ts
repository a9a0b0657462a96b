/** The link-cutting TCP proxy lives with the simulators (the flood and snow drills cut a gateway's uplink with it). */
export { type CutMode, startTcpProxy, type TcpProxy } from '../../simulators/common/tcp-proxy.js';
