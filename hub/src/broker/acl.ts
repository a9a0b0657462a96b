/**
 * Who may publish and subscribe what on the embedded broker (DESIGN §4.2). Pure decisions over
 * topic strings, so they are unit-tested without a broker; the aedes hooks in embedded.ts call them.
 */
import { parseTopic, TOPIC_ROOT, topics } from '../../../drivers/sdk/wire.js';

/** An authenticated MQTT client. */
export type Principal = { role: 'gateway'; id: string; district: string } | { role: 'reader'; id: string };

/** Why a publish or subscribe was refused; the `reason` label of the deny counters. */
export type DenyReason =
  | 'sys-topic'
  | 'reader-publish'
  | 'foreign-prefix'
  | 'not-uplink'
  | 'not-own-cmd'
  | 'outside-root';

export type AclDecision = { allowed: true } | { allowed: false; reason: DenyReason };

const ALLOW: AclDecision = { allowed: true };
const deny = (reason: DenyReason): AclDecision => ({ allowed: false, reason });

/**
 * A gateway publishes only its uplink channels under its own `cg/v1/<district>/<gateway>/`
 * prefix; readers publish nothing; `$SYS` is the broker's own.
 */
export function decidePublish(principal: Principal, topic: string): AclDecision {
  if (topic.startsWith('$')) return deny('sys-topic');
  if (principal.role === 'reader') return deny('reader-publish');
  if (!topic.startsWith(topics.prefix({ district: principal.district, gateway: principal.id })))
    return deny('foreign-prefix');
  const parsed = parseTopic(topic);
  if (parsed?.type !== 'uplink') return deny('not-uplink');
  return ALLOW;
}

/**
 * A gateway subscribes to its own commands only (`.../cmd/#` or one exact `.../cmd/<name>`);
 * a reader to anything under `cg/v1/`. Wildcards elsewhere would let a gateway read its
 * neighbours' commands, so any other filter is refused.
 */
export function decideSubscribe(principal: Principal, filter: string): AclDecision {
  if (filter.startsWith('$')) return deny('sys-topic');
  if (principal.role === 'reader') {
    return filter === `${TOPIC_ROOT}/#` || filter.startsWith(`${TOPIC_ROOT}/`) ? ALLOW : deny('outside-root');
  }
  if (filter === topics.cmdFilter({ district: principal.district, gateway: principal.id })) return ALLOW;
  const parsed = parseTopic(filter);
  if (parsed?.type === 'cmd' && parsed.gateway === principal.id && parsed.district === principal.district) return ALLOW;
  return deny('not-own-cmd');
}

/**
 * A will published when no live client is known (aedes re-publishing the wills of a dead broker
 * instance passes `client = null`): only a gateway's `state` topic can be a legitimate will.
 */
export function decideOrphanWill(topic: string): AclDecision {
  const parsed = parseTopic(topic);
  return parsed?.type === 'uplink' && parsed.channel === 'state' ? ALLOW : deny('not-uplink');
}
