// The reverse of the reader tests: Trino writes into a table floe created (its Parquet writer,
// its manifests, its commit through the same SQLite catalog), floe appends on top of Trino's
// snapshot and then compacts the files of both writers into new ones. Every reader, Trino
// included, must return exactly the rows both wrote, before and after the rewrite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactTable, type CompactReport } from '../../compaction/compact-table.ts';
import { EntryStatus } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson, type Schema } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { isPrimitive, type IcebergType } from '../../src/spec/types.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { canonicalRows, canonicalValue, normalizeRows } from '../support/canonical.ts';
import { ALL_TYPES_SCHEMA_JSON, generateRows } from '../support/datagen.ts';
import { ALL_READERS, ReaderServer, readersUnavailable, TRINO_SKIPPED } from '../support/readers.ts';
import { sqlName, sqlString, type TrinoReader } from '../support/trino.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = readersUnavailable() ?? (TRINO_SKIPPED ? 'FLOE_SKIP_TRINO=1' : undefined);
const ID = { namespace: ['tw'], name: 'all_types' };
const TABLE = 'tw.all_types';

/** Trino's name for an Iceberg type (the one its Iceberg connector maps the column to). */
function trinoType(t: IcebergType): string {
  if (isPrimitive(t)) {
    switch (t.kind) {
      case 'boolean': return 'boolean';
      case 'int': return 'integer';
      case 'long': return 'bigint';
      case 'float': return 'real';
      case 'double': return 'double';
      case 'decimal': return `decimal(${t.precision}, ${t.scale})`;
      case 'date': return 'date';
      case 'time': return 'time(6)';
      case 'timestamp': return 'timestamp(6)';
      case 'timestamptz': return 'timestamp(6) with time zone';
      case 'string': return 'varchar';
      case 'uuid': return 'uuid';
      case 'fixed': case 'binary': return 'varbinary';
    }
  }
  if (t.kind === 'struct') return `row(${t.fields.map((f) => `${sqlName(f.name)} ${trinoType(f.type)}`).join(', ')})`;
  if (t.kind === 'list') return `array(${trinoType(t.element)})`;
  return `map(${trinoType(t.key)}, ${trinoType(t.value)})`;
}

/** A Trino SQL literal of type `t` for a value in canonical form (canonical.ts). */
function trinoLiteral(t: IcebergType, v: unknown): string {
  if (v === null || v === undefined) return `CAST(NULL AS ${trinoType(t)})`;
  if (isPrimitive(t)) {
    const floating = (): string => {
      if (v === 'NaN') return `CAST(nan() AS ${trinoType(t)})`;
      if (v === 'Infinity') return `CAST(infinity() AS ${trinoType(t)})`;
      if (v === '-Infinity') return `CAST(-infinity() AS ${trinoType(t)})`;
      return `CAST(${sqlString(Object.is(v, -0) ? '-0.0' : String(v))} AS ${trinoType(t)})`;
    };
    switch (t.kind) {
      case 'boolean': return v ? 'true' : 'false';
      case 'float': case 'double': return floating();
      case 'string': return sqlString(String(v));
      case 'fixed': case 'binary': return `from_base64(${sqlString(String(v))})`;
      case 'timestamp': return `TIMESTAMP ${sqlString(String(v).replace('T', ' '))}`;
      case 'timestamptz': return `TIMESTAMP ${sqlString(`${String(v).replace('T', ' ').replace(/\+00:00$/, '')} UTC`)}`;
      default: return `CAST(${sqlString(String(v))} AS ${trinoType(t)})`;
    }
  }
  if (t.kind === 'struct') {
    const o = v as Record<string, unknown>;
    return `CAST(ROW(${t.fields.map((f) => trinoLiteral(f.type, o[f.name])).join(', ')}) AS ${trinoType(t)})`;
  }
  if (t.kind === 'list') return `CAST(ARRAY[${(v as unknown[]).map((e) => trinoLiteral(t.element, e)).join(', ')}] AS ${trinoType(t)})`;
  const pairs = v as unknown[][];
  return `CAST(MAP(ARRAY[${pairs.map((p) => trinoLiteral(t.key, p[0])).join(', ')}], ARRAY[${pairs.map((p) => trinoLiteral(t.value, p[1])).join(', ')}]) AS ${trinoType(t)})`;
}

async function liveFiles(wh: TestWarehouse): Promise<string[]> {
  const t = await wh.catalog.loadTable(ID);
  const files: string[] = [];
  for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(wh.catalog.io, m)) if (e.status !== EntryStatus.Deleted) files.push(e.dataFile.filePath);
  }
  return files;
}

describe('Trino inserts into a floe table, floe appends and compacts', { skip }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let trino: TrinoReader;
  let schema: Schema;
  let expected: Record<string, unknown>[] = [];
  let trinoFiles: string[] = [];
  let report: CompactReport;
  let beforeCompaction: Record<string, unknown>[];
  let filesBeforeCompaction: string[] = [];

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    trino = await readers.trino();
    // Every type but time: Spark refuses any table with a time column (README), and here every
    // reader must read the table (round-trip.test.ts covers time in the other three).
    schema = schemaFromJson({ ...ALL_TYPES_SCHEMA_JSON, fields: ALL_TYPES_SCHEMA_JSON.fields.filter((f) => f.type !== 'time') }, { assignIds: true });
    await wh.catalog.createNamespace(['tw']);
    await wh.catalog.createTable(ID, { schema, spec: parsePartitionExpression('bucket(4,id)', schema) });

    // 1. floe appends.
    const floe1 = generateRows(schema, 120, 41, 0);
    await appendRecords(wh.catalog, ID, floe1.map((r) => r.input));
    const filesFloe1 = new Set(await liveFiles(wh));

    // 2. Trino inserts (two statements: two snapshots, several files per bucket).
    const fromTrino = generateRows(schema, 120, 42, 10_000);
    const ref = await trino.tableRef({ warehouse: wh.dir, catalogDb: wh.catalogDb, table: TABLE });
    for (const part of [fromTrino.slice(0, 60), fromTrino.slice(60)]) {
      const values = part.map((r) => `(${schema.fields.map((f) => trinoLiteral(f.type, canonicalValue(f.type, r.values[f.name]))).join(', ')})`);
      const res = await trino.client.query(`INSERT INTO ${ref} VALUES ${values.join(',\n')}`);
      assert.equal(res.updateCount, part.length, 'rows Trino inserted');
    }
    trinoFiles = (await liveFiles(wh)).filter((f) => !filesFloe1.has(f));

    // 3. floe appends on top of Trino's snapshot.
    const trinoHead = (await wh.catalog.loadTable(ID)).metadata.currentSnapshotId;
    const floe2 = generateRows(schema, 120, 43, 20_000);
    const appended = await appendRecords(wh.catalog, ID, floe2.map((r) => r.input));
    assert.equal(appended.snapshot.parentSnapshotId, trinoHead);

    expected = canonicalRows(schema, [...floe1, ...fromTrino, ...floe2].map((r) => r.values));
    beforeCompaction = normalizeRows(schema, (await readers.read({ reader: 'trino', warehouse: wh.dir, catalogDb: wh.catalogDb, table: TABLE })).rows);

    // 4. floe compacts every bucket's files, floe's and Trino's.
    filesBeforeCompaction = await liveFiles(wh);
    report = await compactTable(wh.catalog, ID, { minInputFiles: 2 });
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('Trino wrote its own data files, and reads both writers\' rows before the rewrite', () => {
    assert.ok(trinoFiles.length >= 4, `${trinoFiles.length} files from Trino`);
    assert.equal(beforeCompaction.length, 360);
    assert.deepStrictEqual(beforeCompaction, expected);
  });

  test('the rewrite replaced every file, Trino\'s included', async () => {
    assert.equal(report.failedGroups, 0);
    assert.equal(report.rewrittenFiles, filesBeforeCompaction.length);
    const live = await liveFiles(wh);
    assert.deepStrictEqual(live.filter((f) => filesBeforeCompaction.includes(f)), [], 'no input file is live any more');
    // The rewriter merges only files of one physical Parquet schema, and Trino's differ from
    // floe's (uuid carries the UUID annotation, a map's repeated group is `key_value`, not
    // `entries`): so each bucket gets one output for floe's files and one for Trino's.
    assert.ok(live.length >= 4 && live.length <= 8, `${live.length} files after the rewrite (4 buckets × at most 2 physical schemas)`);
  });

  for (const reader of ALL_READERS) {
    test(`${reader} reads exactly what floe and Trino wrote, after the rewrite`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: TABLE });
      const actual = normalizeRows(schema, res.rows);
      assert.equal(actual.length, expected.length);
      assert.deepStrictEqual(actual, expected);
    });
  }
});
