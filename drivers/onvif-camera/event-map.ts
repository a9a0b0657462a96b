/**
 * ONVIF notifications (as the onvif package parses them) -> citygrid Events. Pure.
 *
 * Topics (domain 5-onvif.md §5.6): motion from VideoSource/MotionAlarm (State) or the
 * CellMotionDetector rule (IsMotion); tamper from TamperDetector (IsTamper), GlobalSceneChange
 * and ImageToo{Dark,Bright,Blurry} (State); any other RuleEngine rule is analytics.
 * `Initialized` messages report the state when a subscription starts: only an active state is
 * worth an Event then (a camera still covered after a reboot); `Changed` is reported both ways.
 */
import type { Severity } from '../sdk/reading.js';

export type CameraEventType = 'camera.motion' | 'camera.tamper' | 'camera.analytics';

export interface MappedEvent {
  type: CameraEventType;
  severity: Severity;
  ts?: number;
  data: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: parsed XML from the onvif package
type Any = any;

/** SimpleItems (one object or an array) as a name -> value map. */
function items(node: Any): Record<string, unknown> {
  const list =
    node?.simpleItem === undefined ? [] : Array.isArray(node.simpleItem) ? node.simpleItem : [node.simpleItem];
  const out: Record<string, unknown> = {};
  for (const it of list) if (it?.$?.Name !== undefined) out[String(it.$.Name)] = it.$.Value;
  return out;
}

function topicText(msg: Any): string {
  const t = msg?.topic;
  return String(typeof t === 'object' && t !== null ? (t._ ?? '') : (t ?? ''))
    .trim()
    .replace(/^[\w-]+:/, '');
}

function classify(topic: string): { type: CameraEventType; stateItems: string[] } | undefined {
  if (/(^|\/)MotionAlarm$|CellMotionDetector\/Motion$|MotionDetector/.test(topic))
    return { type: 'camera.motion', stateItems: ['IsMotion', 'State'] };
  if (/TamperDetector|GlobalSceneChange|ImageTooDark|ImageTooBright|ImageTooBlurry/.test(topic))
    return { type: 'camera.tamper', stateItems: ['IsTamper', 'State'] };
  if (/^RuleEngine\//.test(topic)) return { type: 'camera.analytics', stateItems: ['IsInside', 'State'] };
  return undefined;
}

const asBool = (v: unknown): boolean | undefined =>
  v === true || v === 'true' || v === 1 || v === '1'
    ? true
    : v === false || v === 'false' || v === 0 || v === '0'
      ? false
      : undefined;

/** Maps one notification; undefined for topics we do not report and for inactive Initialized states. */
export function mapNotification(msg: Any): MappedEvent | undefined {
  const topic = topicText(msg);
  const kind = classify(topic);
  if (!kind) return undefined;
  const message = msg?.message?.message;
  const operation = String(message?.$?.PropertyOperation ?? 'Changed');
  const source = items(message?.source);
  const data = items(message?.data);
  const stateKey = kind.stateItems.find((k) => k in data);
  const active = stateKey === undefined ? undefined : asBool(data[stateKey]);
  if (operation === 'Initialized' && active !== true) return undefined;
  if (operation === 'Deleted') return undefined;
  const utc = message?.$?.UtcTime;
  const ts =
    utc instanceof Date
      ? utc.getTime()
      : typeof utc === 'string' && Number.isFinite(Date.parse(utc))
        ? Date.parse(utc)
        : undefined;
  const severity: Severity = active === false ? 'info' : kind.type === 'camera.tamper' ? 'critical' : 'warning';
  return {
    type: kind.type,
    severity,
    ...(ts !== undefined ? { ts } : {}),
    data: {
      topic,
      operation,
      ...(active !== undefined ? { active } : {}),
      ...(Object.keys(source).length ? { source } : {}),
      ...(Object.keys(data).length ? { items: data } : {}),
    },
  };
}
