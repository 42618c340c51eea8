// Trino's metadata tables ($snapshots, $history, $refs, $manifests, $files, $partitions) of a
// table floe wrote agree with floe's own view of it (table metadata, manifest list, manifests):
// every snapshot, ref, manifest and data file with its counts, sizes, bounds and partition.
//
// Known Trino 476 limits, shared by tables pyiceberg writes (documented, not worked around, and
// shown by the last describe on twin tables written by pyiceberg and by floe):
// - `$partitions` of any table with a fixed column fails ("Unsupported iceberg type: fixed[4]",
//   IcebergStatistics.acceptDataFile): hence no fixed column in the table above;
// - a table partitioned by identity(fixed) cannot be scanned, nor its `$files`/`$partitions`
//   read ("Malformed data. Length is negative" from Avro: Trino reads the fixed partition value
//   with a bytes schema); `$manifests` works.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EntryStatus, type DataFile } from '../../src/spec/data-file.ts';
import { parsePartitionExpression, type PartitionSpec } from '../../src/spec/partition-spec.ts';
import { schemaFromJson, type Schema } from '../../src/spec/schema.ts';
import type { TableMetadata } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { formatDate, formatTimestamp, formatUuid } from '../support/canonical.ts';
import { REPO_ROOT, readersUnavailable, TRINO_SKIPPED, VENV_PYTHON } from '../support/readers.ts';
import { ensureTrino, TrinoReader } from '../support/trino.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'ts', required: true, type: 'timestamptz' },
    { name: 'region', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'double' },
    { name: 'u', required: false, type: 'uuid' },
  ],
}, { assignIds: true });
const EVENTS = { namespace: ['meta'], name: 'events' };
const BY_UUID = { namespace: ['meta'], name: 'by_uuid' };

const skip = readersUnavailable() ?? (TRINO_SKIPPED ? 'FLOE_SKIP_TRINO=1' : undefined);

// --- floe's view, in Trino's canonical forms --------------------------------------------------

const utc = (ms: number): string => `${formatTimestamp(BigInt(ms) * 1000n)}+00:00`;
const str = (v: bigint | number | null | undefined): string | null => (v === null || v === undefined ? null : String(v));
const sortBy = <T>(xs: T[], key: (x: T) => string): T[] => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
const countMap = (m: ReadonlyMap<number, bigint> | undefined): string[][] | null =>
  (m ? sortBy([...m].map(([k, v]) => [String(k), String(v)]), (p) => JSON.stringify(p[0])) : null);

// Java's human-readable bound (Iceberg `Transforms.identity().toHumanString`), as $files shows it.
function humanBound(schema: Schema, fieldId: number, b: Uint8Array): string {
  const f = schema.fields.find((x) => x.id === fieldId);
  const buf = Buffer.from(b);
  switch (f?.type.kind) {
    case 'long': return buf.readBigInt64LE(0).toString();
    case 'string': return buf.toString('utf8');
    case 'uuid': return formatUuid(b);
    case 'double': {
      const d = buf.readDoubleLE(0);
      return Number.isInteger(d) && Math.abs(d) < 1e7 ? d.toFixed(1) : String(d); // Double.toString
    }
    case 'timestamptz': {
      // OffsetDateTime.toString: fraction without trailing zeros, none at all when zero.
      const iso = formatTimestamp(buf.readBigInt64LE(0)).replace(/0+$/, '').replace(/\.$/, '');
      return `${iso}+00:00`;
    }
    default: throw new Error(`no human bound for field ${fieldId}`);
  }
}
const boundMap = (schema: Schema, m: ReadonlyMap<number, Uint8Array> | undefined): string[][] | null =>
  (m ? sortBy([...m].map(([k, v]) => [String(k), humanBound(schema, k, v)]), (p) => JSON.stringify(p[0])) : null);

// A partition tuple as Trino's `partition` row: identity(string) as is, day() as a date.
function partitionRow(spec: PartitionSpec, p: DataFile['partition']): Record<string, unknown> {
  return Object.fromEntries(spec.fields.map((f, i) => {
    const v = p[i];
    if (v === null || v === undefined) return [f.name, null];
    if (f.transform.kind === 'day') return [f.name, formatDate(Number(v))];
    if (v instanceof Uint8Array) return [f.name, formatUuid(v)];
    return [f.name, v];
  }));
}

function summaryBound(spec: PartitionSpec, i: number, b: Uint8Array | null): string | null {
  if (b === null) return null;
  const buf = Buffer.from(b);
  if (spec.fields[i]!.transform.kind === 'day') return formatDate(buf.readInt32LE(0));
  return buf.toString('utf8');
}

async function liveFiles(wh: TestWarehouse, meta: TableMetadata): Promise<DataFile[]> {
  const current = meta.snapshots.find((s) => s.snapshotId === meta.currentSnapshotId);
  const files: DataFile[] = [];
  for (const m of await snapshotManifests(wh.catalog.io, current)) {
    for (const e of await manifestEntries(wh.catalog.io, m)) if (e.status !== EntryStatus.Deleted) files.push(e.dataFile);
  }
  return files;
}

describe("Trino's metadata tables agree with floe's view", { skip }, () => {
  let wh: TestWarehouse;
  let trino: TrinoReader;
  let meta: TableMetadata;
  let catalog: string;
  const q = async (table: string, suffix: string, cols = '*'): Promise<Record<string, unknown>[]> =>
    trino.client.rows(`SELECT ${cols} FROM ${catalog}."meta"."${table}$${suffix}"`);

  before(async () => {
    wh = await testWarehouse();
    trino = new TrinoReader(await ensureTrino());
    await wh.catalog.createNamespace(['meta']);
    await wh.catalog.createTable(EVENTS, { schema: SCHEMA, spec: parsePartitionExpression('region, day(ts)', SCHEMA) });
    // Three appends to main, one to a branch: 4 snapshots, 2 refs, regions with nulls, NaNs.
    for (let batch = 0; batch < 4; batch++) {
      const rows = Array.from({ length: 9 }, (_, i) => ({
        id: batch * 100 + i,
        ts: `2026-01-0${1 + ((batch + i) % 3)}T${String(i).padStart(2, '0')}:30:00.25Z`,
        region: i % 4 === 0 ? null : `r${i % 3}`,
        amount: i === 5 ? 'NaN' : batch * 10 + i * 1.5,
        u: null,
      }));
      await appendRecords(wh.catalog, EVENTS, rows, batch === 2 ? { branch: 'audit' } : {});
    }
    meta = (await wh.catalog.loadTable(EVENTS)).metadata;
    catalog = await trino.catalogFor(wh.dir, wh.catalogDb);
  });

  after(async () => {
    await trino?.close();
    await wh?.cleanup();
  });

  test('$snapshots: every snapshot with its parent, operation, manifest list and summary', async () => {
    const want = meta.snapshots.map((s) => ({
      committed_at: utc(s.timestampMs), snapshot_id: String(s.snapshotId), parent_id: str(s.parentSnapshotId),
      operation: s.summary.operation, manifest_list: s.manifestList,
      summary: sortBy(Object.entries(s.summary).filter(([k]) => k !== 'operation'), (p) => JSON.stringify(p[0])),
    }));
    assert.equal(want.length, 4);
    const key = (r: Record<string, unknown>): string => String(r.snapshot_id);
    assert.deepStrictEqual(sortBy(await q('events', 'snapshots'), key), sortBy(want, key));
  });

  test('$history: every snapshot, and which are ancestors of the current one', async () => {
    // Trino 476 lists every snapshot here (not only the snapshot-log of main).
    const ancestors = new Set<string>();
    for (let id = meta.currentSnapshotId; id !== null;) {
      ancestors.add(String(id));
      id = meta.snapshots.find((s) => s.snapshotId === id)?.parentSnapshotId ?? null;
    }
    const want = meta.snapshots.map((s) => ({
      made_current_at: utc(s.timestampMs), snapshot_id: String(s.snapshotId), parent_id: str(s.parentSnapshotId),
      is_current_ancestor: ancestors.has(String(s.snapshotId)),
    }));
    assert.equal(ancestors.size, 3, 'three appends to main');
    const key = (r: Record<string, unknown>): string => String(r.snapshot_id);
    assert.deepStrictEqual(sortBy(await q('events', 'history'), key), sortBy(want, key));
  });

  test('$refs: main and the branch', async () => {
    const want = Object.entries(meta.refs).map(([name, r]) => ({
      name, type: r.type.toUpperCase(), snapshot_id: String(r.snapshotId),
      max_reference_age_in_ms: str(r.maxRefAgeMs), min_snapshots_to_keep: str(r.minSnapshotsToKeep), max_snapshot_age_in_ms: str(r.maxSnapshotAgeMs),
    }));
    assert.deepStrictEqual(want.map((r) => r.name).sort(), ['audit', 'main']);
    assert.deepStrictEqual(sortBy(await q('events', 'refs'), (r) => String(r.name)), sortBy(want, (r) => r.name));
  });

  test('$manifests: the current snapshot\'s manifests with counts and partition summaries', async () => {
    const spec = meta.specs.find((s) => s.specId === meta.defaultSpecId)!;
    const current = meta.snapshots.find((s) => s.snapshotId === meta.currentSnapshotId);
    const want = (await snapshotManifests(wh.catalog.io, current)).map((m) => ({
      path: m.manifestPath, length: String(m.manifestLength), partition_spec_id: String(m.partitionSpecId),
      added_snapshot_id: String(m.addedSnapshotId),
      added_data_files_count: String(m.addedFilesCount), added_rows_count: String(m.addedRowsCount),
      existing_data_files_count: String(m.existingFilesCount), existing_rows_count: String(m.existingRowsCount),
      deleted_data_files_count: String(m.deletedFilesCount), deleted_rows_count: String(m.deletedRowsCount),
      partition_summaries: (m.partitions ?? []).map((p, i) => ({
        contains_null: p.containsNull, contains_nan: p.containsNan,
        lower_bound: summaryBound(spec, i, p.lowerBound), upper_bound: summaryBound(spec, i, p.upperBound),
      })),
    }));
    assert.equal(want.length, 3);
    assert.ok(want.every((m) => m.partition_summaries.length === 2));
    const key = (r: Record<string, unknown>): string => String(r.path);
    assert.deepStrictEqual(sortBy(await q('events', 'manifests'), key), sortBy(want, key));
  });

  test('$files: every live data file with its partition, counts, sizes and bounds', async () => {
    const spec = meta.specs.find((s) => s.specId === meta.defaultSpecId)!;
    const files = await liveFiles(wh, meta);
    const want = files.map((f) => ({
      content: String(f.content), file_path: f.filePath, file_format: f.fileFormat.toUpperCase(), spec_id: String(f.specId),
      partition: partitionRow(spec, f.partition), record_count: String(f.recordCount), file_size_in_bytes: String(f.fileSizeInBytes),
      column_sizes: countMap(f.columnSizes), value_counts: countMap(f.valueCounts),
      null_value_counts: countMap(f.nullValueCounts), nan_value_counts: countMap(f.nanValueCounts),
      lower_bounds: boundMap(SCHEMA, f.lowerBounds), upper_bounds: boundMap(SCHEMA, f.upperBounds),
      split_offsets: f.splitOffsets ? f.splitOffsets.map(String) : null, sort_order_id: str(f.sortOrderId),
    }));
    assert.ok(want.length >= 9, `${want.length} live files`);
    const cols = 'content, file_path, file_format, spec_id, partition, record_count, file_size_in_bytes, column_sizes, value_counts, '
      + 'null_value_counts, nan_value_counts, lower_bounds, upper_bounds, split_offsets, sort_order_id';
    const key = (r: Record<string, unknown>): string => String(r.file_path);
    assert.deepStrictEqual(sortBy(await q('events', 'files', cols), key), sortBy(want, key));
  });

  test('$partitions: records, files and bytes per partition', async () => {
    const spec = meta.specs.find((s) => s.specId === meta.defaultSpecId)!;
    const byPartition = new Map<string, { partition: Record<string, unknown>; record_count: bigint; file_count: bigint; total_size: bigint }>();
    for (const f of await liveFiles(wh, meta)) {
      const partition = partitionRow(spec, f.partition);
      const k = JSON.stringify(partition);
      const agg = byPartition.get(k) ?? { partition, record_count: 0n, file_count: 0n, total_size: 0n };
      agg.record_count += f.recordCount;
      agg.file_count += 1n;
      agg.total_size += f.fileSizeInBytes;
      byPartition.set(k, agg);
    }
    const want = [...byPartition.values()].map((p) => ({
      partition: p.partition, record_count: String(p.record_count), file_count: String(p.file_count), total_size: String(p.total_size),
    }));
    const key = (r: Record<string, unknown>): string => JSON.stringify(r.partition);
    assert.deepStrictEqual(sortBy(await q('events', 'partitions', 'partition, record_count, file_count, total_size'), key), sortBy(want, key));
  });

  test('$manifests of a table partitioned by a uuid column: every manifest carries exact summaries', async () => {
    // Issue 8 defect 4: floe used to leave the summaries out here and Trino failed ("summaries" is
    // null). These two uuids order differently in Java (signed) and in the spec (unsigned), so
    // floe writes them to two manifests, each with bounds that hold in both orders.
    await wh.catalog.createTable(BY_UUID, { schema: SCHEMA, spec: parsePartitionExpression('u', SCHEMA) });
    const low = '00000000-0000-4000-8000-000000000001';
    const high = 'f0000000-0000-4000-8000-000000000002';
    await appendRecords(wh.catalog, BY_UUID, [
      { id: 1, ts: '2026-01-01T00:00:00Z', region: 'a', amount: 1, u: low },
      { id: 2, ts: '2026-01-01T00:00:00Z', region: 'b', amount: 2, u: high },
      { id: 3, ts: '2026-01-01T00:00:00Z', region: 'c', amount: 3, u: null },
    ]);
    const t = await wh.catalog.loadTable(BY_UUID);
    const current = t.metadata.snapshots.find((s) => s.snapshotId === t.metadata.currentSnapshotId);
    const uuidText = (b: Uint8Array | null): string | null => {
      if (b === null) return null;
      const h = Buffer.from(b).toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    };
    const want = (await snapshotManifests(wh.catalog.io, current)).map((m) => ({
      added_data_files_count: String(m.addedFilesCount),
      partition_summaries: (m.partitions ?? []).map((p) => ({
        contains_null: p.containsNull, contains_nan: p.containsNan, lower_bound: uuidText(p.lowerBound), upper_bound: uuidText(p.upperBound),
      })),
    }));
    assert.ok(want.length >= 2, 'the two uuids go to separate manifests');
    assert.ok(want.every((m) => m.partition_summaries.length === 1));
    assert.deepStrictEqual(want.flatMap((m) => [m.partition_summaries[0]!.lower_bound, m.partition_summaries[0]!.upper_bound]).filter((b) => b !== null).sort(), [low, low, high, high]);
    // Trino 476 renders a manifest without bounds (only nulls) as the text 'null' in this column.
    const asTrino = want.map((m) => ({ ...m, partition_summaries: m.partition_summaries.map((p) => ({ ...p, lower_bound: p.lower_bound ?? 'null', upper_bound: p.upper_bound ?? 'null' })) }));
    const key = (r: Record<string, unknown>): string => JSON.stringify(r.partition_summaries);
    assert.deepStrictEqual(sortBy(await q('by_uuid', 'manifests', 'added_data_files_count, partition_summaries'), key), sortBy(asTrino, key));
  });
});

describe('Trino 476 limits with fixed columns hit pyiceberg\'s tables as they hit floe\'s', { skip }, () => {
  let wh: TestWarehouse;
  let trino: TrinoReader;
  let catalog: string;
  const FIXED_SCHEMA = schemaFromJson({ type: 'struct', fields: [
    { name: 'id', required: false, type: 'long' }, { name: 'fx', required: false, type: 'fixed[4]' },
  ] }, { assignIds: true });

  before(async () => {
    wh = await testWarehouse();
    trino = new TrinoReader(await ensureTrino());
    const res = spawnSync(VENV_PYTHON, [path.join(REPO_ROOT, 'test/interop/readers/make_pyiceberg_fixed_tables.py'),
      '--warehouse', wh.dir, '--catalog-db', wh.catalogDb, '--catalog-name', 'floe', '--namespace', 'py'], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    await wh.catalog.createNamespace(['fl']);
    for (const [name, expr] of [['fixed_col', undefined], ['fixed_part', 'fx']] as const) {
      const id = { namespace: ['fl'], name };
      await wh.catalog.createTable(id, { schema: FIXED_SCHEMA, ...(expr ? { spec: parsePartitionExpression(expr, FIXED_SCHEMA) } : {}) });
      await appendRecords(wh.catalog, id, [{ id: 1, fx: Buffer.from('abcd').toString('base64') }, { id: 2, fx: Buffer.from('wxyz').toString('base64') }]);
    }
    catalog = await trino.catalogFor(wh.dir, wh.catalogDb);
  });
  after(async () => {
    await trino?.close();
    await wh?.cleanup();
  });

  /** 'ok' or Trino's error message (first line, without the SQL). */
  const outcome = (sql: string): Promise<string> => trino.client.query(sql).then(() => 'ok', (e: Error) => e.message.split('\n')[0]!.replace(/ \(.*$/, ''));

  for (const [table, suffix, want] of [
    ['fixed_col', '', 'ok'],
    ['fixed_col', '$files', 'ok'],
    ['fixed_col', '$partitions', /Unsupported iceberg type: fixed\[4\]/],
    ['fixed_part', '', /Error processing metadata for table/],
    ['fixed_part', '$manifests', 'ok'],
    ['fixed_part', '$files', /Malformed data. Length is negative/],
    ['fixed_part', '$partitions', /Malformed data. Length is negative/],
  ] as const) {
    test(`${table}${suffix}: the same outcome for both writers`, async () => {
      const py = await outcome(`SELECT * FROM ${catalog}."py"."${table}${suffix}"`);
      const fl = await outcome(`SELECT * FROM ${catalog}."fl"."${table}${suffix}"`);
      assert.equal(fl.replace(/fl\.fixed/, 'py.fixed'), py, 'floe\'s table behaves as pyiceberg\'s');
      if (typeof want === 'string') assert.equal(py, want); else assert.match(py, want);
    });
  }
});
