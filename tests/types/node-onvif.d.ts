/**
 * The part of node-onvif 0.1.7 (CommonJS, untyped) the interop test uses, read from its
 * lib/modules/device.js. The module's default export is an `Onvif` instance; its discovery
 * (startProbe, multicast UDP) is left out on purpose: tests stay on loopback.
 */
declare module 'node-onvif' {
  export interface OnvifDeviceParams {
    /** The device service URL; node-onvif then uses the XAddrs the camera's GetCapabilities gives. */
    xaddr: string;
    user?: string;
    /** Split off the "user:pass" it builds for HTTP auth at the first ":", so no ":" in it. */
    pass?: string;
  }

  /** One media profile, as init() builds it from GetProfiles, GetStreamUri and GetSnapshotUri. */
  export interface OnvifProfile {
    token: string;
    name: string;
    /** '' when GetSnapshotUri failed. */
    snapshot: string;
    /** GetStreamUri per StreamSetup protocol; '' for a protocol that faulted. */
    stream: { udp: string; http: string; rtsp: string };
    video: {
      source: {
        token: string;
        name: string;
        bounds: { width: number; height: number; x: number; y: number };
      } | null;
      encoder: {
        token: string;
        name: string;
        resolution: { width: number; height: number };
        quality: number;
        framerate: number;
        bitrate: number;
        encoding: string;
      } | null;
    };
    ptz: { range: Record<'x' | 'y' | 'z', { min: number; max: number }> };
  }

  /** GetDeviceInformationResponse, element names without prefixes, values as strings. */
  export interface OnvifDeviceInformation {
    Manufacturer: string;
    Model: string;
    FirmwareVersion: string;
    SerialNumber: string;
    HardwareId: string;
  }

  export class OnvifDevice {
    constructor(params: OnvifDeviceParams);
    /** GetSystemDateAndTime, GetCapabilities, GetDeviceInformation, GetProfiles, GetStreamUri, GetSnapshotUri. */
    init(): Promise<OnvifDeviceInformation>;
    getInformation(): OnvifDeviceInformation | null;
    getProfileList(): OnvifProfile[];
    getCurrentProfile(): OnvifProfile | null;
    /** By index or token; null when there is no such profile. */
    changeProfile(indexOrToken: number | string): OnvifProfile | null;
    setAuth(user: string, pass: string): void;
    /** GET of the current profile's snapshot URI (HTTP Digest after a 401); rejects unless 200 with an image/* type. */
    fetchSnapshot(): Promise<{ headers: import('node:http').IncomingHttpHeaders; body: Buffer }>;
  }

  const onvif: { readonly OnvifDevice: typeof OnvifDevice };
  export default onvif;
}
