// `floe doctor`: a read-only integrity check of one table — referenced files exist with their
// recorded sizes and decode, sequence numbers and lineage are consistent, orphan candidates are
// counted, and with `deep` every data file's footer is held against its manifest entry.
//
// Output contract (crash tests parse it; keep it stable, extend only by adding checks/fields):
//   DoctorReport JSON = {
//     "table": "ns.t", "metadataLocation": string, "deep": boolean,
//     "healthy": boolean,                       // no check has status "fail"
//     "checks": [{
//       "name": CheckName,                      // fixed order, see CHECK_NAMES
//       "status": "ok" | "warn" | "fail" | "skipped",   // warn and skipped never fail the table
//       "count": number,                        // problems found (orphans for orphan-files)
//       "checked": number,                      // things looked at
//       "first"?: string,                       // first offending file (or snapshot/ref)
//       "detail"?: string                       // what is wrong with `first`, or why skipped
//     }]
//   }
//   Text form: one line per check, `<ok|WARN|FAIL|skip> <name> count=<n> checked=<n>[ first=<file>][ (<detail>)]`.
//   CLI exit codes: 0 healthy, 1 problems found, 2 usage error or the table cannot be loaded.
// Checks, in order:
//   files-exist          current metadata, manifest lists, manifests, live data/delete files and
//                        statistics files exist (metadata-log files are optional history: not checked)
//   file-sizes           manifest_length, file_size_in_bytes and statistics file sizes are exact
//   manifests-decode     every manifest list and manifest decodes
//   sequence-numbers     snapshot seq ≤ last-sequence-number and > its parent's; manifest and
//                        entry sequence numbers ≤ the seq of every snapshot that lists them
//   snapshot-lineage     snapshot ids unique; a parent is present, or expired (absent from the
//                        snapshot log too); no cycles
//   refs                 every ref names a present snapshot; current-snapshot-id = refs.main
//   record-counts        (deep) Parquet footer row count = record_count of each live file
//   partition-values     (deep) identity/year/month/day/hour/truncate partition values equal the
//                        transform of the footer's min and max of the source column
//   orphan-files         files under data/ and metadata/ nothing references (warn, never fail)
//   table-location-overlap  no other table of the catalog lives inside, around or at this one's location
import PQueue from 'p-queue';
import { decodeParquetStatistic } from '../src/format/footer-metrics.ts';
import { readManifest, readManifestList } from '../src/format/manifest-reader.ts';
import { readParquetFooter, type ParquetFooter } from '../src/format/parquet-footer.ts';
import type { FileIO } from '../src/io/file-io.ts';
import { EntryStatus, FileContent, type DataFile, type ManifestFile } from '../src/spec/data-file.ts';
import { partitionType, type PartitionFieldType } from '../src/spec/partition-spec.ts';
import { compareValues } from '../src/spec/single-value.ts';
import { currentSchema, MAIN_BRANCH, type Snapshot, type TableMetadata } from '../src/spec/table-metadata.ts';
import { applyTransform } from '../src/spec/transforms.ts';
import type { PrimitiveValue } from '../src/spec/types.ts';
import type { Catalog } from '../src/table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../src/table/identifier.ts';
import { comparableLocation, locationsOverlap } from '../src/table/table-location.ts';
import { liveTableFiles, planOrphanRemoval } from './remove-orphans.ts';

/** The table doctor's checks, in the order they run. */
export const CHECK_NAMES = [
  'files-exist', 'file-sizes', 'manifests-decode', 'sequence-numbers', 'snapshot-lineage', 'refs',
  'record-counts', 'partition-values', 'orphan-files', 'table-location-overlap',
] as const;
/** One of {@link CHECK_NAMES}. */
export type CheckName = typeof CHECK_NAMES[number];
/** A check's verdict: `skipped` when an earlier failure makes it meaningless. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

/** One check's result. */
export interface DoctorCheck {
  /** The check. */
  readonly name: CheckName;
  /** Its verdict. */
  readonly status: CheckStatus;
  /** Problems found. */
  readonly count: number;
  /** Items checked. */
  readonly checked: number;
  /** The first offending item (a file, a snapshot). */
  readonly first?: string;
  /** What is wrong with it. */
  readonly detail?: string;
}

/** The table doctor's report. */
export interface DoctorReport {
  /** The table (`ns.table`). */
  readonly table: string;
  /** The metadata file checked. */
  readonly metadataLocation: string;
  /** Whether file footers were read (`deep`). */
  readonly deep: boolean;
  /** True when no check failed. */
  readonly healthy: boolean;
  /** Every check's result. */
  readonly checks: readonly DoctorCheck[];
}

/** Options of {@link runTableDoctor}. */
export interface DoctorOptions {
  /** Open every live data and delete file and compare its footer with its manifest entry. */
  readonly deep?: boolean;
}

const IO_CONCURRENCY = 16;

/** Collects the problems of one check; the first problem names the offending file. */
class Tally {
  count = 0;
  checked = 0;
  first: string | undefined;
  detail: string | undefined;
  constructor(readonly name: CheckName) {}
  problem(what: string, detail: string): void {
    if (this.count++ === 0) { this.first = what; this.detail = detail; }
  }
  result(whenFound: CheckStatus = 'fail'): DoctorCheck {
    return {
      name: this.name, status: this.count > 0 ? whenFound : 'ok', count: this.count, checked: this.checked,
      ...(this.first !== undefined ? { first: this.first } : {}), ...(this.detail !== undefined ? { detail: this.detail } : {}),
    };
  }
}

/** A live data or delete file, once, with the first manifest that lists it. */
interface LiveFile { readonly file: DataFile; readonly manifest: string }

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Size of a file, or undefined if it does not exist (any read failure counts as missing). */
async function sizeOf(io: FileIO, uri: string): Promise<number | undefined> {
  try {
    return (await io.openBlob(uri)).size;
  } catch {
    return undefined;
  }
}

/**
 * Checks a table's health without changing it: referenced files exist with the recorded sizes,
 * manifests decode, sequence numbers and snapshot lineage are consistent, refs point to
 * snapshots, record counts and partition values agree, orphan files, and no overlap with another
 * table's location; with `deep`, every live file's footer is compared with its manifest entry.
 *
 * @throws {@link floe!NotFoundError} for a missing table.
 * @example
 * ```ts
 * const report = await runTableDoctor(catalog, id);
 * for (const c of report.checks) console.log(c.name, c.status, c.first ?? '');
 * ```
 */
export async function runTableDoctor(catalog: Catalog, id: TableIdentifier, o: DoctorOptions = {}): Promise<DoctorReport> {
  const table = await catalog.loadTable(id);
  const { metadata, metadataLocation } = table;
  const io = catalog.io;
  const deep = o.deep ?? false;
  const queue = new PQueue({ concurrency: IO_CONCURRENCY });

  const exist = new Tally('files-exist');
  const sizes = new Tally('file-sizes');
  const decode = new Tally('manifests-decode');
  const sequences = new Tally('sequence-numbers');

  /** Checks existence and (if recorded) size; true if the file is there. */
  const present = async (uri: string, recordedSize: bigint | undefined): Promise<boolean> => {
    exist.checked++;
    const size = await sizeOf(io, uri);
    if (size === undefined) { exist.problem(uri, 'missing'); return false; }
    if (recordedSize !== undefined) {
      sizes.checked++;
      if (BigInt(size) !== recordedSize) sizes.problem(uri, `recorded ${recordedSize} bytes, found ${size}`);
    }
    return true;
  };

  await present(metadataLocation, undefined);
  for (const s of [...(metadata.statistics ?? []), ...(metadata.partitionStatistics ?? [])]) {
    const stat = s as { 'statistics-path'?: unknown; 'file-size-in-bytes'?: unknown };
    if (typeof stat['statistics-path'] !== 'string') continue;
    const size = stat['file-size-in-bytes'];
    await present(stat['statistics-path'], typeof size === 'number' || typeof size === 'bigint' ? BigInt(size) : undefined);
  }

  // Manifest lists and manifests, each read once; a manifest shared by snapshots is checked
  // against every snapshot that lists it.
  const manifestsBySnapshot = new Map<bigint, ManifestFile[]>();
  await Promise.all(metadata.snapshots.map((snapshot) => queue.add(async () => {
    if (!(await present(snapshot.manifestList, undefined))) return;
    decode.checked++;
    try {
      manifestsBySnapshot.set(snapshot.snapshotId, readManifestList(await io.read(snapshot.manifestList)));
    } catch (err) {
      decode.problem(snapshot.manifestList, message(err));
    }
  })));
  const manifests = new Map<string, ManifestFile>();
  for (const list of manifestsBySnapshot.values()) for (const m of list) if (!manifests.has(m.manifestPath)) manifests.set(m.manifestPath, m);
  const maxEntrySequence = new Map<string, bigint>();
  const live = new Map<string, LiveFile>();
  await Promise.all([...manifests.values()].map((manifest) => queue.add(async () => {
    if (!(await present(manifest.manifestPath, manifest.manifestLength))) return;
    decode.checked++;
    let entries;
    try {
      entries = readManifest(await io.read(manifest.manifestPath), manifest).entries;
    } catch (err) {
      decode.problem(manifest.manifestPath, message(err));
      return;
    }
    let max = manifest.sequenceNumber;
    for (const e of entries) {
      const seq = e.sequenceNumber ?? manifest.sequenceNumber;
      if (seq > max) max = seq;
      // DELETED entries name files of an earlier snapshot, which expiry may have removed.
      if (e.status !== EntryStatus.Deleted && !live.has(e.dataFile.filePath)) live.set(e.dataFile.filePath, { file: e.dataFile, manifest: manifest.manifestPath });
    }
    maxEntrySequence.set(manifest.manifestPath, max);
  })));
  await Promise.all([...live.values()].map(({ file }) => queue.add(() => present(file.filePath, file.fileSizeInBytes))));

  // Sequence numbers along every snapshot and the manifests it lists.
  const byId = new Map(metadata.snapshots.map((s) => [s.snapshotId, s]));
  for (const s of metadata.snapshots) {
    sequences.checked++;
    if (s.sequenceNumber > metadata.lastSequenceNumber) {
      sequences.problem(`snapshot ${s.snapshotId}`, `sequence number ${s.sequenceNumber} > last-sequence-number ${metadata.lastSequenceNumber}`);
    }
    const parent = s.parentSnapshotId === null ? undefined : byId.get(s.parentSnapshotId);
    if (parent && parent.sequenceNumber >= s.sequenceNumber) {
      sequences.problem(`snapshot ${s.snapshotId}`, `sequence number ${s.sequenceNumber} does not increase over parent ${parent.snapshotId} (${parent.sequenceNumber})`);
    }
    for (const m of manifestsBySnapshot.get(s.snapshotId) ?? []) {
      const max = maxEntrySequence.get(m.manifestPath);
      if (max !== undefined && max > s.sequenceNumber) {
        sequences.problem(m.manifestPath, `holds sequence number ${max} > snapshot ${s.snapshotId}'s ${s.sequenceNumber}`);
      }
    }
  }

  const checks: DoctorCheck[] = [
    exist.result(), sizes.result(), decode.result(), sequences.result(),
    lineageCheck(metadata), refsCheck(metadata),
  ];
  if (deep) {
    const { counts, partitions } = await footerChecks(io, metadata, [...live.values()], queue);
    checks.push(counts, partitions);
  } else {
    for (const name of ['record-counts', 'partition-values'] as const) checks.push({ name, status: 'skipped', count: 0, checked: 0, detail: 'needs --deep' });
  }
  checks.push(await orphanCheck(io, metadata, metadataLocation));
  checks.push(await overlapCheck(catalog, id, metadata));

  return {
    table: identifierToString(id), metadataLocation, deep,
    healthy: checks.every((c) => c.status !== 'fail'), checks,
  };
}

function lineageCheck(metadata: TableMetadata): DoctorCheck {
  const t = new Tally('snapshot-lineage');
  const byId = new Map<bigint, Snapshot>();
  for (const s of metadata.snapshots) {
    if (byId.has(s.snapshotId)) t.problem(`snapshot ${s.snapshotId}`, 'snapshot id appears twice');
    byId.set(s.snapshotId, s);
  }
  // Expiry removes a snapshot together with its snapshot-log entries; a parent still logged
  // but gone from `snapshots` was lost, not expired.
  const logged = new Set(metadata.snapshotLog.map((e) => e.snapshotId));
  for (const s of metadata.snapshots) {
    t.checked++;
    if (s.parentSnapshotId !== null && !byId.has(s.parentSnapshotId) && logged.has(s.parentSnapshotId)) {
      t.problem(`snapshot ${s.snapshotId}`, `parent ${s.parentSnapshotId} is in the snapshot log but not in the table`);
    }
    const seen = new Set<bigint>([s.snapshotId]);
    for (let p = s.parentSnapshotId === null ? undefined : byId.get(s.parentSnapshotId); p; p = p.parentSnapshotId === null ? undefined : byId.get(p.parentSnapshotId)) {
      if (seen.has(p.snapshotId)) { t.problem(`snapshot ${s.snapshotId}`, `lineage loops through snapshot ${p.snapshotId}`); break; }
      seen.add(p.snapshotId);
    }
  }
  return t.result();
}

function refsCheck(metadata: TableMetadata): DoctorCheck {
  const t = new Tally('refs');
  const ids = new Set(metadata.snapshots.map((s) => s.snapshotId));
  for (const [name, ref] of Object.entries(metadata.refs)) {
    t.checked++;
    if (!ids.has(ref.snapshotId)) t.problem(`ref ${name}`, `points at missing snapshot ${ref.snapshotId}`);
  }
  t.checked++;
  const main = metadata.refs[MAIN_BRANCH]?.snapshotId ?? null;
  if (main !== metadata.currentSnapshotId) t.problem('current-snapshot-id', `${metadata.currentSnapshotId} differs from refs.main ${main}`);
  else if (main !== null && !ids.has(main)) t.problem('current-snapshot-id', `points at missing snapshot ${main}`);
  return t.result();
}

/** Transforms whose value is the same for the footer's min and max as for every value between. */
const ORDER_PRESERVING = new Set(['identity', 'year', 'month', 'day', 'hour', 'truncate']);
/** Parquet writers may truncate long string/binary statistics; such bounds prove nothing. */
const MAX_EXACT_STATISTIC_BYTES = 63;

async function footerChecks(io: FileIO, metadata: TableMetadata, files: readonly LiveFile[], queue: PQueue): Promise<{ counts: DoctorCheck; partitions: DoctorCheck }> {
  const counts = new Tally('record-counts');
  const partitions = new Tally('partition-values');
  const schema = currentSchema(metadata);
  const fieldsBySpec = new Map<number, PartitionFieldType[] | undefined>();
  const fieldsOf = (specId: number): PartitionFieldType[] | undefined => {
    if (!fieldsBySpec.has(specId)) {
      const spec = metadata.specs.find((s) => s.specId === specId);
      let fields: PartitionFieldType[] | undefined;
      try { fields = spec ? partitionType(spec, schema) : undefined; } catch { fields = undefined; } // source column dropped
      fieldsBySpec.set(specId, fields);
    }
    return fieldsBySpec.get(specId);
  };
  await Promise.all(files.map(({ file }) => queue.add(async () => {
    if (file.fileFormat.toLowerCase() !== 'parquet') return;
    let footer: ParquetFooter;
    try {
      footer = await readParquetFooter(await io.openBlob(file.filePath), file.filePath);
    } catch (err) {
      counts.checked++;
      counts.problem(file.filePath, `footer unreadable: ${message(err)}`);
      return;
    }
    counts.checked++;
    if (footer.numRows !== file.recordCount) counts.problem(file.filePath, `manifest says ${file.recordCount} records, footer ${footer.numRows}`);
    if (file.content !== FileContent.Data) return;
    const fields = fieldsOf(file.specId);
    if (!fields) return;
    fields.forEach((field, i) => {
      if (!ORDER_PRESERVING.has(field.transform.kind)) return;
      const value = file.partition[i] ?? null;
      const bounds = footerBounds(footer, field);
      if (bounds === undefined) return;
      partitions.checked++;
      const show = (v: PrimitiveValue | null): string => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v));
      if (bounds === null) {
        if (value !== null) partitions.problem(file.filePath, `${field.name}=${show(value)} but the column holds only nulls`);
        return;
      }
      const low = applyTransform(field.transform, field.sourceType, bounds.min);
      const high = applyTransform(field.transform, field.sourceType, bounds.max);
      if (value === null || low === null || high === null || compareValues(field.type, low, value) !== 0 || compareValues(field.type, high, value) !== 0) {
        partitions.problem(file.filePath, `${field.name}=${show(value)} but the footer's min/max give ${show(low)}..${show(high)}`);
      }
    });
  })));
  return { counts: counts.result(), partitions: partitions.result() };
}

/**
 * Min and max of the source column over all row groups; null if it holds only nulls; undefined
 * when the footer cannot tell (no statistics in some chunk, undecodable or possibly truncated).
 */
function footerBounds(footer: ParquetFooter, field: PartitionFieldType): { min: PrimitiveValue; max: PrimitiveValue } | null | undefined {
  const leafIndex = footer.leaves.findIndex((l) => l.fieldId === field.sourceId && !l.repeated);
  if (leafIndex < 0) return undefined;
  const leaf = footer.leaves[leafIndex]!;
  let min: PrimitiveValue | undefined;
  let max: PrimitiveValue | undefined;
  for (const group of footer.rowGroups) {
    const chunk = group.columns[leafIndex];
    const stats = chunk?.statistics;
    if (!stats) return undefined;
    if (stats.min === undefined || stats.max === undefined) {
      if (stats.nullCount !== undefined && stats.nullCount === group.numRows) continue; // all null
      return undefined;
    }
    if (stats.min.length > MAX_EXACT_STATISTIC_BYTES || stats.max.length > MAX_EXACT_STATISTIC_BYTES) return undefined;
    const lo = decodeParquetStatistic(field.sourceType, leaf.physicalType, stats.min);
    const hi = decodeParquetStatistic(field.sourceType, leaf.physicalType, stats.max);
    if (lo === undefined || hi === undefined) return undefined;
    if (min === undefined || compareValues(field.sourceType, lo, min) < 0) min = lo;
    if (max === undefined || compareValues(field.sourceType, hi, max) > 0) max = hi;
  }
  return min === undefined || max === undefined ? null : { min, max };
}

async function orphanCheck(io: FileIO, metadata: TableMetadata, metadataLocation: string): Promise<DoctorCheck> {
  const t = new Tally('orphan-files');
  try {
    const liveFiles = await liveTableFiles(io, metadata, metadataLocation);
    const listed = await io.list(`${metadata.location.replace(/\/+$/, '')}/`);
    // Every unreferenced file is a candidate, whatever its age: nothing is deleted here.
    const { orphans } = planOrphanRemoval(listed, liveFiles, metadata.location, { nowMs: Number.MAX_SAFE_INTEGER, olderThanMs: 0 });
    t.checked = listed.length;
    for (const f of orphans) t.problem(f.uri, 'referenced by no snapshot or metadata file (remove-orphans deletes it once old enough)');
  } catch (err) {
    // A missing manifest is reported by files-exist; without it the orphan count is unknown.
    return { name: 'orphan-files', status: 'skipped', count: 0, checked: 0, detail: `cannot list live files: ${message(err)}` };
  }
  return t.result('warn');
}

/** No other table of the catalog lives inside, around or at this table's location (links seen through). */
async function overlapCheck(catalog: Catalog, id: TableIdentifier, metadata: TableMetadata): Promise<DoctorCheck> {
  const self = identifierToString(id);
  const others = (await catalog.listTableLocations()).filter((t) => t.identifier !== self);
  const canonical = async (uri: string): Promise<string> => (catalog.io.canonicalLocation ? catalog.io.canonicalLocation(uri) : uri);
  const own = await canonical(metadata.location);
  let overlapping = 0;
  let first: string | undefined;
  for (const t of others) {
    if (!locationsOverlap(own, await canonical(t.location))) continue;
    overlapping++;
    first ??= `${t.identifier} at ${comparableLocation(t.location)}`;
  }
  return {
    name: 'table-location-overlap', status: overlapping > 0 ? 'fail' : 'ok', count: overlapping, checked: others.length,
    ...(first !== undefined ? { first, detail: 'another table lives inside, around or at this table\'s location' } : {}),
  };
}

/** The text form: one line per check (see the header). */
export function formatDoctorReport(r: DoctorReport): string[] {
  const label: Record<CheckStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skipped: 'skip' };
  const lines = r.checks.map((c) => `${label[c.status]} ${c.name} count=${c.count} checked=${c.checked}${c.first !== undefined ? ` first=${c.first}` : ''}${c.detail !== undefined ? ` (${c.detail})` : ''}`);
  lines.push(`${r.table}: ${r.healthy ? 'healthy' : 'PROBLEMS FOUND'}${r.deep ? ' (deep)' : ''}`);
  return lines;
}
