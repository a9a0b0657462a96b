/**
 * What the ingest does with a media message once it is admitted (seq new): store it durably and
 * tell the capture commands that evidence for their id arrived. Counts stored, duplicates (the
 * same bytes already stored) and failures; a failed write rejects, so the ingest does not ack the
 * seq and forgets it: the edge re-sends and the hub tries again. A part of evidence split across
 * messages is stored durably as a part (parts.ts) and acknowledged; the last part to arrive
 * assembles the whole, which is then stored like the rest.
 */
import type { Logger } from '../../../drivers/sdk/log.js';
import type { DecodedMedia } from '../../../drivers/sdk/media-wire.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { PartAssembler } from './parts.js';
import type { EvidenceStore } from './store.js';

export interface EvidenceServiceOptions {
  store: EvidenceStore;
  log: Logger;
  metrics: MetricsRegistry;
  /** Evidence carrying a command id was stored. */
  onCommandEvidence?: (commandId: string, evidenceId: string) => void;
}

export type EvidenceAccept = (origin: { district: string; gateway: string }, media: DecodedMedia) => Promise<void>;

export function evidenceService(o: EvidenceServiceOptions): EvidenceAccept {
  const stored = o.metrics.counter('citygrid_hub_evidence_stored_total', 'Evidence items stored, by media type.');
  const storedBytes = o.metrics.counter(
    'citygrid_hub_evidence_stored_bytes_total',
    'Bytes of evidence newly written (data and thumbnail).',
  );
  const duplicates = o.metrics.counter(
    'citygrid_hub_evidence_duplicates_total',
    'Evidence items whose bytes were already stored (same sha256), by gateway.',
  );
  const failures = o.metrics.counter(
    'citygrid_hub_evidence_write_failures_total',
    'Evidence writes that failed (not acknowledged; the edge re-sends).',
  );
  const corrupt = o.metrics.counter(
    'citygrid_hub_evidence_assembly_failures_total',
    'Evidence split into parts whose assembled whole did not match its size or sha256 (dropped), by gateway.',
  );
  const assembler = new PartAssembler(o.store.partsDir, o.store.tmpDir);
  return async (origin, media) => {
    const meta = media.header.evidence;
    const part = media.header.part;
    try {
      let whole: { data: Buffer; thumbnail?: Buffer } = media;
      if (part) {
        const result = await assembler.add(meta.sha256, meta.size, part, media.data, media.thumbnail);
        if (result.state === 'waiting') return;
        if (result.state === 'corrupt') {
          corrupt.inc({ gateway: origin.gateway });
          o.log.error({ gateway: origin.gateway, device: meta.device, id: meta.sha256 }, result.reason);
          await assembler.remove(meta.sha256);
          return;
        }
        whole = result;
      }
      const { record, duplicate } = await o.store.put({
        gateway: origin.gateway,
        district: origin.district,
        meta,
        data: whole.data,
        ...(whole.thumbnail ? { thumbnail: whole.thumbnail } : {}),
      });
      if (part) await assembler.remove(meta.sha256);
      if (duplicate) duplicates.inc({ gateway: origin.gateway });
      else {
        stored.inc({ mediaType: meta.mediaType });
        storedBytes.inc({}, whole.data.length + (whole.thumbnail?.length ?? 0));
      }
      o.log.info(
        {
          gateway: origin.gateway,
          device: meta.device,
          id: record.id,
          bytes: meta.size,
          ...(part ? { parts: part.count } : {}),
          commandId: meta.commandId,
          duplicate,
        },
        'Evidence stored',
      );
      if (meta.commandId) o.onCommandEvidence?.(meta.commandId, record.id);
    } catch (err) {
      failures.inc();
      o.log.error({ gateway: origin.gateway, device: meta.device, err }, 'Evidence write failed; not acknowledged');
      throw err;
    }
  };
}
