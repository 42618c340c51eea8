// Table metadata v2 (spec "Table Metadata"): the model, the validated JSON reader and the
// writer. 64-bit ids stay bigint from file to file (see json.ts).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { InvalidMetadataError, UnsupportedError, ValidationError } from '../errors.ts';
import { AppendOnlyJsonArray } from './json-array-bytes.ts';
import { parseJsonExact, stringifyJsonExact } from './json.ts';
import {
  partitionSpecFromJson, partitionSpecJson, partitionSpecToJson, UNPARTITIONED_LAST_ASSIGNED_ID,
  type PartitionSpec,
} from './partition-spec.ts';
import { formatZodIssue, Schema, schemaFromJson, schemaToJson } from './schema.ts';
import { sortOrderFromJson, sortOrderJson, sortOrderToJson, unsortedOrder, type SortOrder } from './sort-order.ts';
import { RESERVED_PROPERTIES } from './table-properties.ts';

/** The name of the table's main branch, the one readers see by default. */
export const MAIN_BRANCH = 'main';

/** One snapshot of a table: the state after a commit (spec "Snapshots"). Ids are BigInts. */
export interface Snapshot {
  /** `snapshot-id`. */
  readonly snapshotId: bigint;
  /** `parent-snapshot-id`: the snapshot this one was committed on, null for the first. */
  readonly parentSnapshotId: bigint | null;
  /** `sequence-number`: orders data and delete files across commits. */
  readonly sequenceNumber: bigint;
  /** `timestamp-ms`: when the snapshot was committed. */
  readonly timestampMs: number;
  /** `manifest-list`: location of the snapshot's manifest list. */
  readonly manifestList: string;
  /** `summary`: `operation` (append, overwrite, delete, replace) and counters such as
   * `added-records`, `total-records`; floe adds source offsets and `wap.id` here. */
  readonly summary: Readonly<Record<string, string>>;
  /** `schema-id` the snapshot was written with. */
  readonly schemaId: number | null;
}

/** A named reference to a snapshot: a branch (moves with commits) or a tag (fixed), with its
 * retention settings (spec "Snapshot References"). */
export interface SnapshotRef {
  /** The snapshot the ref points to. */
  readonly snapshotId: bigint;
  /** `branch` or `tag`. */
  readonly type: 'branch' | 'tag';
  /** `min-snapshots-to-keep` (branches): snapshot expiry keeps at least this many ancestors. */
  readonly minSnapshotsToKeep?: number;
  /** `max-snapshot-age-ms` (branches): ancestors older than this may be expired. */
  readonly maxSnapshotAgeMs?: number;
  /** `max-ref-age-ms`: the ref itself is removed by expiry once older than this (never main). */
  readonly maxRefAgeMs?: number;
}

/** One entry of the `snapshot-log`: when `main` moved to which snapshot. */
export interface SnapshotLogEntry {
  /** When main moved. */
  readonly timestampMs: number;
  /** The snapshot it moved to. */
  readonly snapshotId: bigint;
}
/** One entry of the `metadata-log`: a previous metadata file and when it was written. */
export interface MetadataLogEntry {
  /** When the file was written. */
  readonly timestampMs: number;
  /** Its location. */
  readonly metadataFile: string;
}

/**
 * A table's metadata file, parsed (spec "Table Metadata"; field names are the spec's, in
 * camelCase). Read the current schema and spec with {@link currentSchema} and {@link defaultSpec};
 * branch heads are in `refs` (`refs.main.snapshotId`).
 */
export interface TableMetadata {
  /** `format-version`: floe writes version 2 tables. */
  readonly formatVersion: 2;
  /** `table-uuid`. */
  readonly tableUuid: string;
  /** `location`: the table's base folder or S3 prefix. */
  readonly location: string;
  /** `last-sequence-number`. */
  readonly lastSequenceNumber: bigint;
  /** `last-updated-ms`. */
  readonly lastUpdatedMs: number;
  /** `last-column-id`: the highest field id ever assigned. */
  readonly lastColumnId: number;
  /** Every schema the table has had. */
  readonly schemas: readonly Schema[];
  /** `current-schema-id`. */
  readonly currentSchemaId: number;
  /** Every partition spec the table has had. */
  readonly specs: readonly PartitionSpec[];
  /** `default-spec-id`. */
  readonly defaultSpecId: number;
  /** `last-partition-id`: the highest partition field id ever assigned. */
  readonly lastPartitionId: number;
  /** The table's sort orders. */
  readonly sortOrders: readonly SortOrder[];
  /** `default-sort-order-id`. */
  readonly defaultSortOrderId: number;
  /** Table properties (`write.target-file-size-bytes`, `write.wap.enabled`, …). */
  readonly properties: Readonly<Record<string, string>>;
  /** `current-snapshot-id`: main's head, null for a table without snapshots. */
  readonly currentSnapshotId: bigint | null;
  /** Every snapshot not yet expired, on any branch. */
  readonly snapshots: readonly Snapshot[];
  /** `snapshot-log`: main's history. */
  readonly snapshotLog: readonly SnapshotLogEntry[];
  /** `metadata-log`: previous metadata files. */
  readonly metadataLog: readonly MetadataLogEntry[];
  /** Branches and tags by name (`main` included once the table has a snapshot). */
  readonly refs: Readonly<Record<string, SnapshotRef>>;
  /** Kept verbatim so a rewrite never drops another writer's statistics files. */
  readonly statistics?: readonly unknown[];
  /** `partition-statistics`, kept verbatim likewise. */
  readonly partitionStatistics?: readonly unknown[];
}

// ---------- lookups ----------

/** The table's current schema (the one with `current-schema-id`). */
export function currentSchema(m: TableMetadata): Schema {
  const s = m.schemas.find((x) => x.schemaId === m.currentSchemaId);
  if (!s) throw new ValidationError(`table has no schema with current-schema-id ${m.currentSchemaId}`);
  return s;
}

/** The partition spec new data is written with (`default-spec-id`). */
export function defaultSpec(m: TableMetadata): PartitionSpec {
  const s = m.specs.find((x) => x.specId === m.defaultSpecId);
  if (!s) throw new ValidationError(`table has no partition spec with default-spec-id ${m.defaultSpecId}`);
  return s;
}

export function specById(m: TableMetadata, specId: number): PartitionSpec {
  const s = m.specs.find((x) => x.specId === specId);
  if (!s) throw new ValidationError(`table has no partition spec ${specId}`);
  return s;
}

export function snapshotById(m: TableMetadata, id: bigint): Snapshot | undefined {
  // From the newest: a commit looks up the snapshot it adds and the heads it moves, which sit at
  // the end of a long history (ids are unique, so the direction changes nothing else).
  const list = m.snapshots;
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.snapshotId === id) return list[i];
  return undefined;
}

/** Head snapshot of a branch, or undefined for an empty/unknown branch. */
export function branchHead(m: TableMetadata, branch: string): Snapshot | undefined {
  const ref = m.refs[branch];
  if (!ref) return undefined;
  if (ref.type !== 'branch') throw new ValidationError(`'${branch}' is a tag, not a branch`);
  return snapshotById(m, ref.snapshotId);
}

/**
 * The snapshot a commit to `branch` builds on: its head, or — for a branch that does not exist
 * yet — main's head, so the first commit forks the branch from main (Java's
 * `SnapshotUtil.latestSnapshot`; Spark's WAP branches start the same way).
 */
export function branchBase(m: TableMetadata, branch: string): Snapshot | undefined {
  if (m.refs[branch] === undefined && branch !== MAIN_BRANCH) return branchHead(m, MAIN_BRANCH);
  return branchHead(m, branch);
}

/** The branch's snapshots from head back to the first, following parent ids. */
export function* ancestorsOf(m: TableMetadata, snapshotId: bigint | undefined): Generator<Snapshot> {
  if (snapshotId === undefined) return;
  // Snapshots are listed in commit order, so a parent is almost always the entry just before
  // its child: look there first and build the id index only when history branches.
  const list = m.snapshots;
  let indexOf: Map<bigint, number> | undefined;
  const find = (id: bigint, near: number): [Snapshot | undefined, number] => {
    for (let i = Math.min(near, list.length - 1); i >= 0 && i >= near - 1; i--) if (list[i]!.snapshotId === id) return [list[i], i];
    indexOf ??= new Map(list.map((s, i) => [s.snapshotId, i]));
    const i = indexOf.get(id);
    return i === undefined ? [undefined, -1] : [list[i], i];
  };
  let [cur, at] = find(snapshotId, list.length - 1);
  while (cur) {
    yield cur;
    if (cur.parentSnapshotId === null) return;
    [cur, at] = find(cur.parentSnapshotId, at - 1);
  }
}

// ---------- creation ----------

export function newTableMetadata(opts: {
  location: string; schema: Schema; spec?: PartitionSpec; sortOrder?: SortOrder;
  properties?: Record<string, string>; nowMs?: number; tableUuid?: string;
}): TableMetadata {
  const properties = { ...(opts.properties ?? {}) };
  for (const k of Object.keys(properties)) {
    if (RESERVED_PROPERTIES.has(k)) throw new ValidationError(`table property '${k}' is reserved and cannot be set`);
  }
  const spec = opts.spec ?? { specId: 0, fields: [] };
  const lastPartitionId = spec.fields.reduce((mx, f) => Math.max(mx, f.fieldId), UNPARTITIONED_LAST_ASSIGNED_ID);
  const schema = new Schema(0, opts.schema.fields, opts.schema.identifierFieldIds);
  return {
    formatVersion: 2,
    tableUuid: opts.tableUuid ?? randomUUID(),
    location: opts.location.replace(/\/+$/, ''),
    lastSequenceNumber: 0n,
    lastUpdatedMs: opts.nowMs ?? Date.now(),
    lastColumnId: schema.highestFieldId,
    schemas: [schema],
    currentSchemaId: 0,
    specs: [{ specId: 0, fields: spec.fields }],
    defaultSpecId: 0,
    lastPartitionId,
    sortOrders: [opts.sortOrder ?? unsortedOrder],
    defaultSortOrderId: (opts.sortOrder ?? unsortedOrder).orderId,
    properties,
    currentSnapshotId: null,
    snapshots: [],
    snapshotLog: [],
    metadataLog: [],
    refs: {},
  };
}

// ---------- JSON ----------

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
/** An Iceberg long: a 64-bit signed integer. A number outside that range (a metadata file
 * another tool wrote wrongly, or a hand-edited one) is refused, not carried as an id no reader
 * could hold. */
const long = z.union([z.number().int(), z.bigint()]).transform((v) => BigInt(v))
  .refine((v) => v >= LONG_MIN && v <= LONG_MAX, 'outside the 64-bit (long) range');
/** Milliseconds since the epoch, held as a JS number: refused past 2^53, where a number would
 * silently round. */
const millis = z.union([z.number().int(), z.bigint()])
  .refine((v) => typeof v === 'number' ? Number.isSafeInteger(v) : v >= -(2n ** 53n) && v <= 2n ** 53n, 'outside the range a timestamp in milliseconds can hold exactly (±2^53)')
  .transform((v) => Number(v));

const snapshotJson = z.object({
  'snapshot-id': long,
  'parent-snapshot-id': long.nullable().optional(),
  'sequence-number': long.optional(),
  'timestamp-ms': millis,
  'manifest-list': z.string().optional(),
  manifests: z.array(z.string()).optional(),
  summary: z.record(z.string(), z.string()).refine((s) => typeof s.operation === 'string', 'summary.operation is required'),
  'schema-id': z.number().int().nullable().optional(),
});

const refJson = z.object({
  'snapshot-id': long,
  type: z.enum(['branch', 'tag']),
  'min-snapshots-to-keep': z.number().int().optional(),
  'max-snapshot-age-ms': millis.optional(),
  'max-ref-age-ms': millis.optional(),
});

const metadataJson = z.object({
  'format-version': z.number().int(),
  'table-uuid': z.string().uuid().or(z.string().min(1)),
  location: z.string().min(1),
  'last-sequence-number': long,
  'last-updated-ms': millis,
  'last-column-id': z.number().int(),
  schemas: z.array(z.unknown()).min(1),
  'current-schema-id': z.number().int(),
  'partition-specs': z.array(partitionSpecJson).min(1),
  'default-spec-id': z.number().int(),
  'last-partition-id': z.number().int(),
  properties: z.record(z.string(), z.string()).optional(),
  'current-snapshot-id': long.nullable().optional(),
  snapshots: z.array(snapshotJson).optional(),
  'snapshot-log': z.array(z.object({ 'timestamp-ms': millis, 'snapshot-id': long })).optional(),
  'metadata-log': z.array(z.object({ 'timestamp-ms': millis, 'metadata-file': z.string() })).optional(),
  'sort-orders': z.array(sortOrderJson).min(1),
  'default-sort-order-id': z.number().int(),
  refs: z.record(z.string(), refJson).optional(),
  statistics: z.array(z.unknown()).optional(),
  'partition-statistics': z.array(z.unknown()).optional(),
});

/** Parses and validates a metadata file's text; errors name the file and the field. */
export function parseTableMetadata(text: string, file: string): TableMetadata {
  let raw: unknown;
  try {
    raw = parseJsonExact(text);
  } catch (err) {
    throw new InvalidMetadataError(file, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const formatVersion = (raw as { 'format-version'?: unknown } | null)?.['format-version'];
  if (formatVersion !== 2) {
    if (typeof formatVersion === 'number') throw new UnsupportedError(`metadata file ${file} has format-version ${formatVersion}; floe reads and writes format v2 tables only`);
  }
  const parsed = metadataJson.safeParse(raw);
  if (!parsed.success) throw new InvalidMetadataError(file, formatZodIssue(parsed.error));
  const j = parsed.data;
  let schemas: Schema[];
  try {
    schemas = j.schemas.map((s) => schemaFromJson(s));
  } catch (err) {
    throw new InvalidMetadataError(file, `schemas: ${err instanceof Error ? err.message : String(err)}`);
  }
  let specs: PartitionSpec[];
  try {
    specs = j['partition-specs'].map(partitionSpecFromJson);
  } catch (err) {
    throw new InvalidMetadataError(file, `partition-specs: ${err instanceof Error ? err.message : String(err)}`);
  }
  const snapshots: Snapshot[] = (j.snapshots ?? []).map((s, i) => {
    if (s['manifest-list'] === undefined) throw new InvalidMetadataError(file, `snapshots.${i}: manifest-list is required (v1 'manifests' lists are not supported)`);
    return {
      snapshotId: s['snapshot-id'],
      parentSnapshotId: s['parent-snapshot-id'] ?? null,
      sequenceNumber: s['sequence-number'] ?? 0n,
      timestampMs: s['timestamp-ms'],
      manifestList: s['manifest-list'],
      summary: s.summary,
      schemaId: s['schema-id'] ?? null,
    };
  });
  const rawCurrent = j['current-snapshot-id'] ?? null;
  const currentSnapshotId = rawCurrent === null || rawCurrent === -1n ? null : rawCurrent;
  const refs: Record<string, SnapshotRef> = {};
  for (const [name, r] of Object.entries(j.refs ?? {})) {
    refs[name] = {
      snapshotId: r['snapshot-id'], type: r.type,
      ...(r['min-snapshots-to-keep'] !== undefined ? { minSnapshotsToKeep: r['min-snapshots-to-keep'] } : {}),
      ...(r['max-snapshot-age-ms'] !== undefined ? { maxSnapshotAgeMs: r['max-snapshot-age-ms'] } : {}),
      ...(r['max-ref-age-ms'] !== undefined ? { maxRefAgeMs: r['max-ref-age-ms'] } : {}),
    };
  }
  // Older writers may omit refs; the spec derives main from current-snapshot-id.
  if (refs[MAIN_BRANCH] === undefined && currentSnapshotId !== null) refs[MAIN_BRANCH] = { snapshotId: currentSnapshotId, type: 'branch' };
  const m: TableMetadata = {
    formatVersion: 2,
    tableUuid: j['table-uuid'],
    location: j.location.replace(/\/+$/, ''),
    lastSequenceNumber: j['last-sequence-number'],
    lastUpdatedMs: j['last-updated-ms'],
    lastColumnId: j['last-column-id'],
    schemas,
    currentSchemaId: j['current-schema-id'],
    specs,
    defaultSpecId: j['default-spec-id'],
    lastPartitionId: j['last-partition-id'],
    sortOrders: j['sort-orders'].map(sortOrderFromJson),
    defaultSortOrderId: j['default-sort-order-id'],
    properties: j.properties ?? {},
    currentSnapshotId,
    snapshots,
    snapshotLog: (j['snapshot-log'] ?? []).map((e) => ({ timestampMs: e['timestamp-ms'], snapshotId: e['snapshot-id'] })),
    metadataLog: (j['metadata-log'] ?? []).map((e) => ({ timestampMs: e['timestamp-ms'], metadataFile: e['metadata-file'] })),
    refs,
    ...(j.statistics !== undefined ? { statistics: j.statistics } : {}),
    ...(j['partition-statistics'] !== undefined ? { partitionStatistics: j['partition-statistics'] } : {}),
  };
  try {
    validateMetadata(m);
  } catch (err) {
    throw new InvalidMetadataError(file, err instanceof Error ? err.message : String(err));
  }
  return m;
}

/** Per table, the snapshot list last validated and the last-sequence-number it was checked against. */
const lastValidated = new Map<string, { readonly snapshots: readonly Snapshot[]; readonly lastSequenceNumber: bigint }>();

/**
 * Whether `next` starts with every element of `prev`, the same objects in the same places: a
 * list that only had elements appended (snapshots are immutable, so a commit's metadata shares
 * its base's snapshot objects). A pointer comparison per element.
 */
export function extendsList<T>(prev: readonly T[], next: readonly T[]): boolean {
  if (next.length < prev.length) return false;
  if (next === prev) return true;
  for (let i = 0; i < prev.length; i++) if (prev[i] !== next[i]) return false;
  return true;
}

/** The invariants Java checks on read (TableMetadata constructor); we check them on write too. */
export function validateMetadata(m: TableMetadata): void {
  if (!m.schemas.some((s) => s.schemaId === m.currentSchemaId)) throw new ValidationError(`current-schema-id ${m.currentSchemaId} is not in schemas`);
  if (!m.specs.some((s) => s.specId === m.defaultSpecId)) throw new ValidationError(`default-spec-id ${m.defaultSpecId} is not in partition-specs`);
  if (!m.sortOrders.some((s) => s.orderId === m.defaultSortOrderId)) throw new ValidationError(`default-sort-order-id ${m.defaultSortOrderId} is not in sort-orders`);
  // Snapshots already checked against a last-sequence-number no greater than this one (the
  // previous commit's list, still its prefix) hold; only the appended ones are checked.
  const checked = lastValidated.get(m.tableUuid);
  const from = checked !== undefined && m.lastSequenceNumber >= checked.lastSequenceNumber && extendsList(checked.snapshots, m.snapshots) ? checked.snapshots.length : 0;
  for (let i = from; i < m.snapshots.length; i++) {
    const s = m.snapshots[i]!;
    if (s.sequenceNumber > m.lastSequenceNumber) throw new ValidationError(`snapshot ${s.snapshotId} has sequence-number ${s.sequenceNumber} > last-sequence-number ${m.lastSequenceNumber}`);
  }
  lastValidated.delete(m.tableUuid);
  if (lastValidated.size >= 32) lastValidated.delete(lastValidated.keys().next().value!);
  lastValidated.set(m.tableUuid, { snapshots: m.snapshots, lastSequenceNumber: m.lastSequenceNumber });
  if (m.currentSnapshotId !== null) {
    if (!snapshotById(m, m.currentSnapshotId)) throw new ValidationError(`current-snapshot-id ${m.currentSnapshotId} is not in snapshots`);
    if (m.refs[MAIN_BRANCH]?.snapshotId !== m.currentSnapshotId) throw new ValidationError(`current-snapshot-id ${m.currentSnapshotId} differs from refs.main`);
  }
  for (const [name, ref] of Object.entries(m.refs)) {
    if (!snapshotById(m, ref.snapshotId)) throw new ValidationError(`ref '${name}' points to unknown snapshot ${ref.snapshotId}`);
  }
}

/** A snapshot as the spec's JSON (metadata files, REST add-snapshot updates). */
export function snapshotToJson(s: Snapshot): Record<string, unknown> {
  return {
    'snapshot-id': s.snapshotId,
    ...(s.parentSnapshotId !== null ? { 'parent-snapshot-id': s.parentSnapshotId } : {}),
    'sequence-number': s.sequenceNumber,
    'timestamp-ms': s.timestampMs,
    'manifest-list': s.manifestList,
    summary: s.summary,
    // DuckDB requires schema-id on every snapshot although the spec calls it optional.
    ...(s.schemaId !== null ? { 'schema-id': s.schemaId } : {}),
  };
}

export function tableMetadataToJson(m: TableMetadata): Record<string, unknown> {
  const refs: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(m.refs)) {
    refs[name] = {
      'snapshot-id': r.snapshotId, type: r.type,
      ...(r.minSnapshotsToKeep !== undefined ? { 'min-snapshots-to-keep': r.minSnapshotsToKeep } : {}),
      ...(r.maxSnapshotAgeMs !== undefined ? { 'max-snapshot-age-ms': r.maxSnapshotAgeMs } : {}),
      ...(r.maxRefAgeMs !== undefined ? { 'max-ref-age-ms': r.maxRefAgeMs } : {}),
    };
  }
  return {
    'format-version': 2,
    'table-uuid': m.tableUuid,
    location: m.location,
    'last-sequence-number': m.lastSequenceNumber,
    'last-updated-ms': m.lastUpdatedMs,
    'last-column-id': m.lastColumnId,
    'current-schema-id': m.currentSchemaId,
    schemas: m.schemas.map(schemaToJson),
    'default-spec-id': m.defaultSpecId,
    'partition-specs': m.specs.map(partitionSpecToJson),
    'last-partition-id': m.lastPartitionId,
    'default-sort-order-id': m.defaultSortOrderId,
    'sort-orders': m.sortOrders.map(sortOrderToJson),
    properties: m.properties,
    // Java v2 writes -1 for "no snapshot"; all four readers accept it.
    'current-snapshot-id': m.currentSnapshotId ?? -1,
    refs,
    snapshots: m.snapshots.map(snapshotToJson),
    'snapshot-log': m.snapshotLog.map((e) => ({ 'timestamp-ms': e.timestampMs, 'snapshot-id': e.snapshotId })),
    'metadata-log': m.metadataLog.map((e) => ({ 'timestamp-ms': e.timestampMs, 'metadata-file': e.metadataFile })),
    ...(m.statistics !== undefined ? { statistics: m.statistics } : {}),
    ...(m.partitionStatistics !== undefined ? { 'partition-statistics': m.partitionStatistics } : {}),
  };
}

/** Each snapshot's JSON as UTF-8, written once: snapshots never change, and the metadata
 * objects of successive commits share them (encoding the whole text on every commit cost more
 * than building it). */
const snapshotBytes = new WeakMap<Snapshot, Uint8Array>();
const utf8 = new TextEncoder();

function snapshotJsonBytes(s: Snapshot): Uint8Array {
  let bytes = snapshotBytes.get(s);
  if (bytes === undefined) {
    bytes = utf8.encode(stringifyJsonExact(snapshotToJson(s)));
    snapshotBytes.set(s, bytes);
  }
  return bytes;
}

const numberText = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');
const logEntryBytes = (e: SnapshotLogEntry): Uint8Array => utf8.encode(`{"timestamp-ms":${numberText(e.timestampMs)},"snapshot-id":${e.snapshotId.toString()}}`);

/** The two lists that grow by one entry per commit, kept encoded per table (a few tables). */
interface TableListBytes { snapshots: AppendOnlyJsonArray<Snapshot>; snapshotLog: AppendOnlyJsonArray<SnapshotLogEntry> }
const listBytes = new Map<string, TableListBytes>();

function listBytesFor(tableUuid: string): TableListBytes {
  let l = listBytes.get(tableUuid);
  if (l === undefined) {
    l = { snapshots: new AppendOnlyJsonArray(snapshotJsonBytes), snapshotLog: new AppendOnlyJsonArray(logEntryBytes) };
    if (listBytes.size >= 32) listBytes.delete(listBytes.keys().next().value!);
  } else {
    listBytes.delete(tableUuid);
  }
  listBytes.set(tableUuid, l);
  return l;
}

/**
 * The metadata file's bytes: exactly the UTF-8 of `stringifyJsonExact(tableMetadataToJson(m))`,
 * built so that a commit encodes only what it adds: the snapshots and the snapshot log (one
 * entry each per commit) come from per-table buffers that only append (src/spec/json-array-bytes.ts),
 * everything else is small. What remains proportional to history is copying the bytes.
 *
 * `reuse`: a buffer from an earlier call (the `.buffer` of its result) that the caller owns and
 * no longer needs: the bytes are written into it when they fit, and the result is a view of
 * it. Fresh memory for a multi-megabyte file cost ~3 ms a commit at 10,000 snapshots (page
 * faults, zeroing) against ~0.2 ms to copy into pages already mapped. A buffer too small is
 * replaced by one with room to grow.
 */
export function serializeTableMetadataBytes(m: TableMetadata, reuse?: ArrayBuffer): Uint8Array {
  const { snapshots: _s, 'snapshot-log': _l, 'metadata-log': _ml, statistics: _st, 'partition-statistics': _ps, ...head } = tableMetadataToJson({
    ...m, snapshots: [], snapshotLog: [],
  });
  let tail = `],"metadata-log":${stringifyJsonExact(m.metadataLog.map((e) => ({ 'timestamp-ms': e.timestampMs, 'metadata-file': e.metadataFile })))}`;
  if (m.statistics !== undefined) tail += `,"statistics":${stringifyJsonExact(m.statistics)}`;
  if (m.partitionStatistics !== undefined) tail += `,"partition-statistics":${stringifyJsonExact(m.partitionStatistics)}`;
  const lists = listBytesFor(m.tableUuid);
  const parts = [
    utf8.encode(`${stringifyJsonExact(head).slice(0, -1)},"snapshots":[`),
    lists.snapshots.bytes(m.snapshots),
    utf8.encode('],"snapshot-log":['),
    lists.snapshotLog.bytes(m.snapshotLog),
    utf8.encode(`${tail}}`),
  ];
  let length = 0;
  for (const p of parts) length += p.length;
  const out = reuse === undefined ? new Uint8Array(length)
    : reuse.byteLength >= length ? new Uint8Array(reuse, 0, length)
    : new Uint8Array(new ArrayBuffer(length + (length >> 2)), 0, length);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** The metadata file's text (see serializeTableMetadataBytes, which files are written from). */
export function serializeTableMetadata(m: TableMetadata): string {
  return new TextDecoder().decode(serializeTableMetadataBytes(m));
}

/** `<location>/metadata/NNNNN-<uuid>.metadata.json`; Java and Trino parse the number before
 * the first '-' to pick the next version. */
export function newMetadataFileLocation(location: string, previousMetadataFile: string | null): string {
  let version = 0;
  if (previousMetadataFile !== null) {
    const base = previousMetadataFile.slice(previousMetadataFile.lastIndexOf('/') + 1);
    const m = /^(\d+)-/.exec(base) ?? /^v(\d+)\./.exec(base);
    version = m ? Number(m[1]) + 1 : 0;
  }
  return `${location}/metadata/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
}
