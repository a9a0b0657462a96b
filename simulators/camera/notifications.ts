/**
 * The notifications the simulated camera raises (domain 5-onvif.md §5.5–5.6): motion and tamper as
 * RuleEngine detectors with a boolean Data item, a line-crossing analytics rule with an object id.
 */
import { onvifTime, xmlEscape as x } from './soap.js';

export type CameraEventKind = 'motion' | 'tamper' | 'analytics';
export const CAMERA_EVENT_KINDS: readonly CameraEventKind[] = ['motion', 'tamper', 'analytics'];

export type PropertyOperation = 'Initialized' | 'Changed' | 'Deleted';

const TOPICS: Record<CameraEventKind, { topic: string; rule: string; item: string }> = {
  motion: { topic: 'tns1:RuleEngine/CellMotionDetector/Motion', rule: 'MyMotionDetectorRule', item: 'IsMotion' },
  tamper: { topic: 'tns1:RuleEngine/TamperDetector/Tamper', rule: 'MyTamperDetectorRule', item: 'IsTamper' },
  analytics: { topic: 'tns1:RuleEngine/LineDetector/Crossed', rule: 'MyLineDetectorRule', item: 'ObjectId' },
};

const simpleItem = (name: string, value: string) => `<tt:SimpleItem Name="${x(name)}" Value="${x(value)}"/>`;

/**
 * One wsnt:NotificationMessage. `value` is the Data item's value: the state for motion/tamper
 * ("true"/"false"), the object id for analytics.
 */
export function notificationMessage(
  kind: CameraEventKind,
  value: string,
  at: number,
  operation: PropertyOperation = 'Changed',
): string {
  const t = TOPICS[kind];
  return (
    '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">' +
    `${t.topic}</wsnt:Topic><wsnt:Message><tt:Message UtcTime="${onvifTime(at)}" PropertyOperation="${operation}">` +
    `<tt:Source>${simpleItem('VideoSourceConfigurationToken', 'VSC_1')}${simpleItem('VideoAnalyticsConfigurationToken', 'VAC_1')}${simpleItem('Rule', t.rule)}</tt:Source>` +
    `<tt:Data>${simpleItem(t.item, value)}</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`
  );
}
