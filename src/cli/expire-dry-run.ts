// `floe expire-snapshots --dry-run`: what an expiry would remove, readable for a table with
// thousands of snapshots — each snapshot and each file up to a limit, then "… and K more", with
// totals by kind — or all of it as one JSON document (--json).

/** The shape compaction/expire-snapshots.ts returns for a dry run (kept structural: cli/ does not import compaction/). */
export interface ExpiryDryRunDetail {
  readonly snapshots: readonly { readonly snapshotId: bigint; readonly timestampMs: number; readonly operation: string; readonly addedRecords: number | null }[];
  readonly files: readonly { readonly uri: string; readonly kind: FileKind; readonly sizeBytes: bigint | null }[];
}
type FileKind = 'manifest-list' | 'manifest' | 'data' | 'position-deletes' | 'equality-deletes';

const KIND_LABEL: Record<FileKind, [string, string]> = {
  'manifest-list': ['manifest list', 'manifest lists'],
  'manifest': ['manifest', 'manifests'],
  'data': ['data file', 'data files'],
  'position-deletes': ['position delete file', 'position delete files'],
  'equality-deletes': ['equality delete file', 'equality delete files'],
};
const KIND_ORDER: readonly FileKind[] = ['data', 'position-deletes', 'equality-deletes', 'manifest', 'manifest-list'];

const plural = (n: number, [one, many]: [string, string]): string => `${n} ${n === 1 ? one : many}`;

/** 1536 → `1.5 KiB`; bytes below 1 KiB as they are. */
export function humanBytes(n: bigint): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024n) return `${n} B`;
  let v = Number(n) / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Text lines: the snapshots (oldest first), then the files (in deletion order), each list cut at `limit`; totals apart. */
export function describeExpiryDryRun(d: ExpiryDryRunDetail, limit: number): string[] {
  const lines: string[] = [];
  if (d.snapshots.length > 0) {
    lines.push(`snapshots that would expire (${d.snapshots.length}):`);
    for (const s of d.snapshots.slice(0, limit)) {
      const added = s.addedRecords === null ? '' : `  added-records ${s.addedRecords}`;
      lines.push(`  ${s.snapshotId}  ${new Date(s.timestampMs).toISOString()}  ${s.operation}${added}`);
    }
    if (d.snapshots.length > limit) lines.push(`  … and ${d.snapshots.length - limit} more snapshot(s)`);
  }
  if (d.files.length > 0) {
    const width = Math.max(...d.files.slice(0, limit).map((f) => f.kind.length));
    lines.push(`files that would be deleted (${d.files.length}):`);
    for (const f of d.files.slice(0, limit)) {
      lines.push(`  ${f.kind.padEnd(width)}  ${f.uri}${f.sizeBytes === null ? '' : `  ${humanBytes(f.sizeBytes)}`}`);
    }
    if (d.files.length > limit) lines.push(`  … and ${d.files.length - limit} more file(s)`);
  }
  return lines;
}

/** `9 files: 2 data files (1.2 KiB), 3 manifests (21.0 KiB), 3 manifest lists` — the totals by kind. */
export function describeExpiryTotals(d: ExpiryDryRunDetail): string {
  const parts: string[] = [];
  for (const kind of KIND_ORDER) {
    const of = d.files.filter((f) => f.kind === kind);
    if (of.length === 0) continue;
    const bytes = of.reduce((n, f) => n + (f.sizeBytes ?? 0n), 0n);
    parts.push(`${plural(of.length, KIND_LABEL[kind])}${kind === 'manifest-list' ? '' : ` (${humanBytes(bytes)})`}`);
  }
  return `${plural(d.files.length, ['file', 'files'])}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

/** The JSON form: every snapshot and file (ids and sizes as strings: snapshot ids exceed 2^53). */
export function expiryDryRunJson(r: { expiredSnapshots: number; removedRefs: readonly string[] }, d: ExpiryDryRunDetail): string {
  return JSON.stringify({
    dryRun: true,
    expiredSnapshots: r.expiredSnapshots,
    removedRefs: r.removedRefs,
    snapshots: d.snapshots.map((s) => ({
      snapshotId: s.snapshotId.toString(), committedAt: new Date(s.timestampMs).toISOString(), operation: s.operation, addedRecords: s.addedRecords,
    })),
    files: d.files.map((f) => ({ kind: f.kind, uri: f.uri, sizeBytes: f.sizeBytes === null ? null : Number(f.sizeBytes) })),
    totals: Object.fromEntries(KIND_ORDER.map((k) => {
      const of = d.files.filter((f) => f.kind === k);
      return [k, { files: of.length, bytes: of.some((f) => f.sizeBytes === null) ? null : Number(of.reduce((n, f) => n + (f.sizeBytes ?? 0n), 0n)) }];
    })),
  });
}
