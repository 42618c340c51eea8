// Snapshot summaries with the spec's keys (Appendix F). Totals are carried from the parent's
// summary as Java's SnapshotProducer does; when a parent lacks them (another writer left them
// out) they are recomputed from the manifest list so every snapshot has all six `total-*`.
import { FileContent, type DataFile } from '../spec/data-file.ts';
import { partitionKey } from '../spec/partition-spec.ts';

export type Operation = 'append' | 'replace' | 'overwrite' | 'delete';

export interface SummaryDelta {
  addedDataFiles: bigint;
  deletedDataFiles: bigint;
  addedRecords: bigint;
  deletedRecords: bigint;
  addedFilesSize: bigint;
  removedFilesSize: bigint;
  addedDeleteFiles: bigint;
  removedDeleteFiles: bigint;
  addedPositionDeletes: bigint;
  removedPositionDeletes: bigint;
  addedEqualityDeletes: bigint;
  removedEqualityDeletes: bigint;
  changedPartitions: Set<string>;
}

export function emptyDelta(): SummaryDelta {
  return {
    addedDataFiles: 0n, deletedDataFiles: 0n, addedRecords: 0n, deletedRecords: 0n, addedFilesSize: 0n,
    removedFilesSize: 0n, addedDeleteFiles: 0n, removedDeleteFiles: 0n, addedPositionDeletes: 0n,
    removedPositionDeletes: 0n, addedEqualityDeletes: 0n, removedEqualityDeletes: 0n, changedPartitions: new Set(),
  };
}

function partitionId(f: DataFile): string {
  return `${f.specId}/${partitionKey(f.partition)}`;
}

export function addFile(d: SummaryDelta, f: DataFile): void {
  d.changedPartitions.add(partitionId(f));
  d.addedFilesSize += f.fileSizeInBytes;
  if (f.content === FileContent.Data) { d.addedDataFiles++; d.addedRecords += f.recordCount; return; }
  d.addedDeleteFiles++;
  if (f.content === FileContent.PositionDeletes) d.addedPositionDeletes += f.recordCount;
  else d.addedEqualityDeletes += f.recordCount;
}

export function removeFile(d: SummaryDelta, f: DataFile): void {
  d.changedPartitions.add(partitionId(f));
  d.removedFilesSize += f.fileSizeInBytes;
  if (f.content === FileContent.Data) { d.deletedDataFiles++; d.deletedRecords += f.recordCount; return; }
  d.removedDeleteFiles++;
  if (f.content === FileContent.PositionDeletes) d.removedPositionDeletes += f.recordCount;
  else d.removedEqualityDeletes += f.recordCount;
}

const TOTAL_KEYS = ['total-records', 'total-files-size', 'total-data-files', 'total-delete-files', 'total-position-deletes', 'total-equality-deletes'] as const;
export type Totals = Record<(typeof TOTAL_KEYS)[number], bigint>;

/** Parent totals from its summary, or undefined if any is missing or malformed. */
export function totalsFromSummary(summary: Readonly<Record<string, string>> | undefined): Totals | undefined {
  if (!summary) return { 'total-records': 0n, 'total-files-size': 0n, 'total-data-files': 0n, 'total-delete-files': 0n, 'total-position-deletes': 0n, 'total-equality-deletes': 0n };
  const out: Partial<Totals> = {};
  for (const k of TOTAL_KEYS) {
    const v = summary[k];
    if (v === undefined || !/^\d+$/.test(v)) return undefined;
    out[k] = BigInt(v);
  }
  return out as Totals;
}

/** Totals of a snapshot computed from its manifests' entries (the fallback path). */
export function totalsFromEntries(files: readonly DataFile[]): Totals {
  const t: Totals = { 'total-records': 0n, 'total-files-size': 0n, 'total-data-files': 0n, 'total-delete-files': 0n, 'total-position-deletes': 0n, 'total-equality-deletes': 0n };
  for (const f of files) {
    t['total-files-size'] += f.fileSizeInBytes;
    if (f.content === FileContent.Data) { t['total-data-files']++; t['total-records'] += f.recordCount; } else {
      t['total-delete-files']++;
      if (f.content === FileContent.PositionDeletes) t['total-position-deletes'] += f.recordCount;
      else t['total-equality-deletes'] += f.recordCount;
    }
  }
  return t;
}

export function buildSummary(operation: Operation, d: SummaryDelta, parent: Totals, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const s: Record<string, string> = { operation };
  const put = (k: string, v: bigint): void => { if (v !== 0n) s[k] = v.toString(); };
  put('added-data-files', d.addedDataFiles);
  put('deleted-data-files', d.deletedDataFiles);
  put('added-delete-files', d.addedDeleteFiles);
  put('removed-delete-files', d.removedDeleteFiles);
  put('added-records', d.addedRecords);
  put('deleted-records', d.deletedRecords);
  put('added-files-size', d.addedFilesSize);
  put('removed-files-size', d.removedFilesSize);
  put('added-position-deletes', d.addedPositionDeletes);
  put('removed-position-deletes', d.removedPositionDeletes);
  put('added-equality-deletes', d.addedEqualityDeletes);
  put('removed-equality-deletes', d.removedEqualityDeletes);
  s['changed-partition-count'] = String(d.changedPartitions.size);
  s['total-records'] = String(parent['total-records'] + d.addedRecords - d.deletedRecords);
  s['total-files-size'] = String(parent['total-files-size'] + d.addedFilesSize - d.removedFilesSize);
  s['total-data-files'] = String(parent['total-data-files'] + d.addedDataFiles - d.deletedDataFiles);
  s['total-delete-files'] = String(parent['total-delete-files'] + d.addedDeleteFiles - d.removedDeleteFiles);
  s['total-position-deletes'] = String(parent['total-position-deletes'] + d.addedPositionDeletes - d.removedPositionDeletes);
  s['total-equality-deletes'] = String(parent['total-equality-deletes'] + d.addedEqualityDeletes - d.removedEqualityDeletes);
  s['engine-name'] = 'floe';
  return { ...s, ...extra };
}
