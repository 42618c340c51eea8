// Source positions a snapshot records for exactly-once ingest (Kafka offsets, file byte
// offsets and file fingerprints), and the rule that keeps them through maintenance: every
// snapshot floe produces carries the positions of its branch forward, merged with its own, so
// the newest floe snapshot of a branch always holds all of them. Snapshot expiry can then
// drop older snapshots without a restarted ingest losing its place (it used to read them by
// walking history, and expiry could remove the last snapshot that had them → rows doubled).
//
//   floe.offsets.<source-id>      {"<partition>": <next offset>, ...}   merged per partition
//   floe.source-file.<source-id>  file fingerprint (opaque JSON)          newest wins
import { ancestorsOf, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';

export const OFFSETS_KEY_PREFIX = 'floe.offsets.';
export const SOURCE_FILE_KEY_PREFIX = 'floe.source-file.';

export type PartitionOffsets = ReadonlyMap<number, bigint>;

export function encodeOffsets(offsets: PartitionOffsets): string {
  const entries = [...offsets].sort(([a], [b]) => a - b).map(([p, o]) => `"${p}":${o}`);
  return `{${entries.join(',')}}`;
}

export function decodeOffsets(text: string): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const m of text.matchAll(/"(\d+)"\s*:\s*(\d+)/g)) out.set(Number(m[1]), BigInt(m[2]!));
  return out;
}

export const isSourcePositionKey = (k: string): boolean => k.startsWith(OFFSETS_KEY_PREFIX) || k.startsWith(SOURCE_FILE_KEY_PREFIX);

/** Whether a snapshot records any source position (expiry keeps the newest such one per branch). */
export function recordsSourcePositions(s: Snapshot): boolean {
  return Object.keys(s.summary).some(isSourcePositionKey);
}

/**
 * The source positions of the branch whose head is `headId` merged with `own` (this commit's,
 * which win): every offsets key with all partitions any ancestor recorded (newest per
 * partition), every fingerprint key with its newest value.
 */
export function carriedSourcePositions(m: TableMetadata, headId: bigint | undefined, own: Readonly<Record<string, string>>): Record<string, string> {
  const offsets = new Map<string, Map<number, bigint>>();
  const fingerprints = new Map<string, string>();
  const take = (summary: Readonly<Record<string, string>>): void => {
    for (const [k, v] of Object.entries(summary)) {
      if (k.startsWith(OFFSETS_KEY_PREFIX)) {
        let merged = offsets.get(k);
        if (!merged) { merged = new Map(); offsets.set(k, merged); }
        for (const [p, o] of decodeOffsets(v)) if (!merged.has(p)) merged.set(p, o);
      } else if (k.startsWith(SOURCE_FILE_KEY_PREFIX) && !fingerprints.has(k)) {
        fingerprints.set(k, v);
      }
    }
  };
  take(own);
  for (const s of ancestorsOf(m, headId)) take(s.summary);
  const out: Record<string, string> = {};
  for (const [k, v] of offsets) out[k] = encodeOffsets(v);
  for (const [k, v] of fingerprints) out[k] = v;
  return out;
}
