/**
 * Response bodies of the simulated camera's device, media, PTZ and event services (domain
 * 5-onvif.md §5.4: what npm onvif and libonvif's onvif-util actually read). Pure string builders.
 */
import { onvifTime, xmlEscape as x } from './soap.js';

/** Who the camera says it is and where its services live. */
export interface CameraIdentity {
  name: string;
  /** urn:uuid:... endpoint reference (WS-Discovery). */
  uuid: string;
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hostname: string;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
}

export interface PtzVector {
  x: number;
  y: number;
  zoom: number;
}

export interface Preset extends PtzVector {
  token: string;
  name: string;
}

export interface Profile {
  token: string;
  name: string;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  ptz: boolean;
}

export const VIDEO_SOURCE = 'VideoSource_1';

export const PROFILES: readonly Profile[] = [
  { token: 'Profile_1', name: 'mainStream', width: 640, height: 480, fps: 10, bitrateKbps: 1024, ptz: true },
  { token: 'Profile_2', name: 'subStream', width: 320, height: 240, fps: 10, bitrateKbps: 256, ptz: true },
];

export const SERVICE_PATHS = {
  device: '/onvif/device_service',
  media: '/onvif/media_service',
  ptz: '/onvif/ptz_service',
  events: '/onvif/events_service',
} as const;

export function systemDateAndTime(now: number): string {
  const d = new Date(now);
  return (
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>' +
    '<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime>' +
    `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
    '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
  );
}

/** At least two services: npm onvif fails to parse a lone Service (an object instead of an array). */
export function services(cam: CameraIdentity): string {
  const entries: [string, string][] = [
    ['http://www.onvif.org/ver10/device/wsdl', SERVICE_PATHS.device],
    ['http://www.onvif.org/ver10/media/wsdl', SERVICE_PATHS.media],
    ['http://www.onvif.org/ver20/ptz/wsdl', SERVICE_PATHS.ptz],
    ['http://www.onvif.org/ver10/events/wsdl', SERVICE_PATHS.events],
  ];
  // ver20/media is deliberately absent: advertising it switches npm onvif to Media2 calls we do not answer.
  return `<tds:GetServicesResponse>${entries
    .map(
      ([ns, path]) =>
        `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${cam.baseUrl}${path}</tds:XAddr>` +
        '<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>',
    )
    .join('')}</tds:GetServicesResponse>`;
}

export function capabilities(cam: CameraIdentity): string {
  const u = cam.baseUrl;
  return (
    '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
    `<tt:Device><tt:XAddr>${u}${SERVICE_PATHS.device}</tt:XAddr></tt:Device>` +
    `<tt:Events><tt:XAddr>${u}${SERVICE_PATHS.events}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
    '<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>' +
    `<tt:Media><tt:XAddr>${u}${SERVICE_PATHS.media}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
    '<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>' +
    `<tt:PTZ><tt:XAddr>${u}${SERVICE_PATHS.ptz}</tt:XAddr></tt:PTZ>` +
    '</tds:Capabilities></tds:GetCapabilitiesResponse>'
  );
}

export function deviceInformation(cam: CameraIdentity): string {
  return (
    `<tds:GetDeviceInformationResponse><tds:Manufacturer>${x(cam.manufacturer)}</tds:Manufacturer><tds:Model>${x(cam.model)}</tds:Model>` +
    `<tds:FirmwareVersion>${x(cam.firmware)}</tds:FirmwareVersion><tds:SerialNumber>${x(cam.serial)}</tds:SerialNumber>` +
    `<tds:HardwareId>${x(cam.model)}</tds:HardwareId></tds:GetDeviceInformationResponse>`
  );
}

export function hostname(cam: CameraIdentity): string {
  return `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${x(cam.hostname)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`;
}

export function ntp(): string {
  return '<tds:GetNTPResponse><tds:NTPInformation><tt:FromDHCP>false</tt:FromDHCP><tt:NTPManual><tt:Type>IPv4</tt:Type><tt:IPv4Address>127.0.0.1</tt:IPv4Address></tt:NTPManual></tds:NTPInformation></tds:GetNTPResponse>';
}

export function scopes(cam: CameraIdentity): string[] {
  return [
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/type/ptz',
    'onvif://www.onvif.org/Profile/Streaming',
    `onvif://www.onvif.org/name/${encodeURIComponent(cam.name)}`,
    `onvif://www.onvif.org/hardware/${encodeURIComponent(cam.model)}`,
    'onvif://www.onvif.org/location/city/hangzhou',
  ];
}

export function scopesResponse(cam: CameraIdentity): string {
  return `<tds:GetScopesResponse>${scopes(cam)
    .map((s) => `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${x(s)}</tt:ScopeItem></tds:Scopes>`)
    .join('')}</tds:GetScopesResponse>`;
}

export function videoSources(): string {
  const p = PROFILES[0] as Profile;
  return `<trt:GetVideoSourcesResponse><trt:VideoSources token="${VIDEO_SOURCE}"><tt:Framerate>${p.fps}</tt:Framerate><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`;
}

function encoderConfiguration(p: Profile, tag = 'tt:VideoEncoderConfiguration'): string {
  return (
    `<${tag} token="VEC_${p.token}"><tt:Name>${p.name}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality>` +
    `<tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${p.bitrateKbps}</tt:BitrateLimit></tt:RateControl>` +
    `<tt:H264><tt:GovLength>${p.fps}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>` +
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    `<tt:SessionTimeout>PT60S</tt:SessionTimeout></${tag}>`
  );
}

/** One profile; its VideoSourceConfiguration's SourceToken matches GetVideoSources (else npm onvif's connect() hangs). */
function profile(p: Profile, tag: string): string {
  const full = PROFILES[0] as Profile;
  return (
    `<${tag} token="${p.token}" fixed="true"><tt:Name>${p.name}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="VSC_1"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>${VIDEO_SOURCE}</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${full.width}" height="${full.height}"/></tt:VideoSourceConfiguration>` +
    encoderConfiguration(p) +
    (p.ptz
      ? '<tt:PTZConfiguration token="PTZ_1"><tt:Name>PTZ</tt:Name><tt:UseCount>2</tt:UseCount><tt:NodeToken>PTZNode_1</tt:NodeToken></tt:PTZConfiguration>'
      : '') +
    `</${tag}>`
  );
}

export function profiles(): string {
  return `<trt:GetProfilesResponse>${PROFILES.map((p) => profile(p, 'trt:Profiles')).join('')}</trt:GetProfilesResponse>`;
}

export function profileResponse(p: Profile): string {
  return `<trt:GetProfileResponse>${profile(p, 'trt:Profile')}</trt:GetProfileResponse>`;
}

export function encoderConfigurationResponse(p: Profile): string {
  return `<trt:GetVideoEncoderConfigurationResponse>${encoderConfiguration(p, 'trt:Configuration')}</trt:GetVideoEncoderConfigurationResponse>`;
}

export function encoderConfigurationOptions(): string {
  return (
    '<trt:GetVideoEncoderConfigurationOptionsResponse><trt:Options><tt:QualityRange><tt:Min>1</tt:Min><tt:Max>6</tt:Max></tt:QualityRange>' +
    `<tt:H264>${PROFILES.map((p) => `<tt:ResolutionsAvailable><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:ResolutionsAvailable>`).join('')}` +
    '<tt:GovLengthRange><tt:Min>1</tt:Min><tt:Max>100</tt:Max></tt:GovLengthRange><tt:FrameRateRange><tt:Min>1</tt:Min><tt:Max>25</tt:Max></tt:FrameRateRange>' +
    '<tt:EncodingIntervalRange><tt:Min>1</tt:Min><tt:Max>1</tt:Max></tt:EncodingIntervalRange><tt:H264ProfilesSupported>Baseline</tt:H264ProfilesSupported></tt:H264>' +
    '</trt:Options></trt:GetVideoEncoderConfigurationOptionsResponse>'
  );
}

export function mediaUri(operation: 'GetSnapshotUri' | 'GetStreamUri', uri: string): string {
  return (
    `<trt:${operation}Response><trt:MediaUri><tt:Uri>${x(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${operation}Response>`
  );
}

function vector(v: PtzVector): string {
  return `<tt:PanTilt x="${v.x}" y="${v.y}"/><tt:Zoom x="${v.zoom}"/>`;
}

export function presets(list: readonly Preset[]): string {
  return `<tptz:GetPresetsResponse>${list
    .map(
      (p) =>
        `<tptz:Preset token="${p.token}"><tt:Name>${x(p.name)}</tt:Name><tt:PTZPosition>${vector(p)}</tt:PTZPosition></tptz:Preset>`,
    )
    .join('')}</tptz:GetPresetsResponse>`;
}

export function ptzStatus(position: PtzVector, moving: boolean, now: number): string {
  const state = moving ? 'MOVING' : 'IDLE';
  return (
    `<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position>${vector(position)}</tt:Position>` +
    `<tt:MoveStatus><tt:PanTilt>${state}</tt:PanTilt><tt:Zoom>${state}</tt:Zoom></tt:MoveStatus>` +
    `<tt:UtcTime>${onvifTime(now)}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`
  );
}

export function eventProperties(): string {
  return (
    '<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
    '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet><wstop:TopicSet><tns1:VideoSource><MotionAlarm wstop:topic="true"/></tns1:VideoSource>' +
    '<tns1:RuleEngine><TamperDetector><Tamper wstop:topic="true"/></TamperDetector><LineDetector><Crossed wstop:topic="true"/></LineDetector></tns1:RuleEngine></wstop:TopicSet>' +
    '<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet</wsnt:TopicExpressionDialect>' +
    '<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
    '</tev:GetEventPropertiesResponse>'
  );
}

export function subscriptionCreated(address: string, now: number, termination: number): string {
  return (
    `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa5:Address>${x(address)}</wsa5:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${onvifTime(now)}</wsnt:CurrentTime><wsnt:TerminationTime>${onvifTime(termination)}</wsnt:TerminationTime>` +
    '</tev:CreatePullPointSubscriptionResponse>'
  );
}

export function pullMessagesResponse(now: number, termination: number, messages: readonly string[]): string {
  return `<tev:PullMessagesResponse><tev:CurrentTime>${onvifTime(now)}</tev:CurrentTime><tev:TerminationTime>${onvifTime(termination)}</tev:TerminationTime>${messages.join('')}</tev:PullMessagesResponse>`;
}

export function renewResponse(now: number, termination: number): string {
  return `<wsnt:RenewResponse><wsnt:TerminationTime>${onvifTime(termination)}</wsnt:TerminationTime><wsnt:CurrentTime>${onvifTime(now)}</wsnt:CurrentTime></wsnt:RenewResponse>`;
}
