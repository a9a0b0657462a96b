/**
 * Where the agent hands evidence (camera snapshots and clips): checked against
 * `delivery.maxEvidenceBytes`, framed (media-wire.ts; split into parts of one message each when
 * larger than one message holds) and taken into the durable outbox like
 * readings and events, so it survives an uplink outage and a kill -9 and is deleted only after the
 * hub's end-to-end ack. An item above the maximum is refused with an EvidenceTooLargeError, and
 * one whose metadata the hub's schema would refuse (it would be re-sent forever, never acked) is
 * refused as `invalid`: logged with the device, counted, and the agent goes on.
 */
import type { Logger } from '../../drivers/sdk/log.js';
import {
  EvidenceTooLargeError,
  encodeMediaItems,
  evidenceMetaSchema,
  MAX_MEDIA_HEADER_BYTES,
  MAX_THUMBNAIL_BYTES,
  PART_BYTES,
} from '../../drivers/sdk/media-wire.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { AgentEvidence } from './agent.js';
import type { Outbox } from './outbox.js';

export interface EvidenceSinkOptions {
  outbox: Pick<Outbox, 'addMedia'>;
  /** Data + thumbnail bytes of one evidence item at most. */
  maxBytes: number;
  /** Body bytes per part (tests make it small). Default PART_BYTES. */
  partBytes?: number;
  log: Logger;
  metrics: MetricsRegistry;
}

export function evidenceSink(o: EvidenceSinkOptions): (evidence: AgentEvidence) => void {
  // Taken (committed to disk) is citygrid_edge_outbox_taken_total{type="media"}, counted by the outbox.
  const received = o.metrics.counter(
    'citygrid_edge_evidence_received_total',
    'Evidence items (snapshots, clips) drivers handed over and the outbox accepted, by device and media type.',
  );
  const receivedBytes = o.metrics.counter(
    'citygrid_edge_evidence_received_bytes_total',
    'Bytes of evidence handed to the outbox (data and thumbnail), by device.',
  );
  const refused = o.metrics.counter(
    'citygrid_edge_evidence_refused_total',
    'Evidence items refused before the outbox, by device and reason (too-large, invalid).',
  );
  return (e) => {
    const bytes = e.data.length + (e.thumbnail?.length ?? 0);
    if (bytes > o.maxBytes) {
      const err = new EvidenceTooLargeError(e.device, bytes, o.maxBytes);
      refused.inc({ device: e.device, reason: 'too-large' });
      o.log.warn(
        { device: e.device, code: err.code, bytes, maxBytes: o.maxBytes, commandId: e.commandId },
        `Evidence refused: ${err.message}`,
      );
      return;
    }
    const thumbBytes = e.thumbnail?.length ?? 0;
    const partBytes = o.partBytes ?? PART_BYTES;
    const { items, meta } =
      thumbBytes <= Math.min(MAX_THUMBNAIL_BYTES, partBytes / 2)
        ? encodeMediaItems(e, partBytes)
        : { items: [], meta: undefined };
    const checked = meta ? evidenceMetaSchema.safeParse(meta) : undefined;
    // The header must leave room for the uplink fields within MAX_MEDIA_HEADER_BYTES (a huge `meta`).
    const headerBytes = (items[0]?.length ?? 0) - Math.min(bytes, partBytes);
    if (!checked?.success || headerBytes > MAX_MEDIA_HEADER_BYTES - 1024) {
      const issue = !checked
        ? `thumbnail of ${thumbBytes} bytes`
        : checked.success
          ? `header of ${headerBytes} bytes`
          : checked.error.issues[0];
      const where = typeof issue === 'string' ? issue : `${issue?.path.join('.')}: ${issue?.message}`;
      refused.inc({ device: e.device, reason: 'invalid' });
      o.log.warn({ device: e.device, code: 'evidence-invalid', commandId: e.commandId }, `Evidence refused: ${where}`);
      return;
    }
    for (const item of items) o.outbox.addMedia(item, e.device, e.ts);
    received.inc({ device: e.device, mediaType: e.mediaType });
    receivedBytes.inc({ device: e.device }, bytes);
  };
}
