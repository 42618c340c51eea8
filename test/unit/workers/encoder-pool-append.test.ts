// Appends whose Parquet files are encoded on worker threads (the encoder pool) against the same
// appends encoded on the main thread: same rows, same files (names, order, row groups) and the
// same manifest metrics; and a failing worker or record fails the write cleanly, leaving no file.
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RecordValidationError } from '../../../src/errors.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { parsePartitionExpression } from '../../../src/spec/partition-spec.ts';
import type { DataFile } from '../../../src/spec/data-file.ts';
import { currentSchema, defaultSpec } from '../../../src/spec/table-metadata.ts';
import type { Catalog } from '../../../src/table/catalog.ts';
import { commitWithRetry } from '../../../src/transaction/commit-with-retry.ts';
import { FastAppend } from '../../../src/transaction/fast-append.ts';
import { EncoderWorkerError, ParquetEncoderPool } from '../../../src/workers/parquet-encoder-pool.ts';
import { DataFileWriter, tailBatchRows, type DataFileWriterOptions } from '../../../src/writer/data-file-writer.ts';
import { readTableRows } from '../../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'ts', required: true, type: 'timestamptz' },
    { name: 'kind', required: true, type: 'string' },
    { name: 'page', required: false, type: 'string' },
    { name: 'value', required: false, type: 'double' },
    { name: 'n', required: false, type: 'int' },
    { name: 'flag', required: false, type: 'boolean' },
    { name: 'amount', required: false, type: 'decimal(12, 2)' },
  ],
}, { assignIds: true });

const KINDS = ['click', 'view', 'purchase'];

/** Bounds that move from batch to batch (the extremes sit in the middle and at the end), NaNs,
 * nulls and -0.0, so folding the batches' metrics is really exercised. */
function makeRows(count: number): Record<string, unknown>[] {
  const base = Date.UTC(2026, 10, 1);
  return Array.from({ length: count }, (_, i) => ({
    id: i === Math.floor(count / 2) ? -5 : i,
    ts: new Date(base + ((i * 7_919) % count) * 61_000).toISOString(),
    kind: KINDS[i % 3],
    page: i % 11 === 0 ? null : `/p/${(i * 31) % 9_973}${i === count - 1 ? '~zz' : ''}`,
    value: i % 997 === 0 ? Number.NaN : i % 13 === 0 ? null : i === 7 ? -0 : ((i % 1000) - 400) / 7,
    n: i % 5 === 0 ? null : (i * 13) % 1_000,
    flag: i % 4 === 0 ? null : i % 3 === 0,
    amount: i % 9 === 0 ? null : ((i % 100_000) / 100).toFixed(2),
  }));
}

let wh: TestWarehouse;
let pool: ParquetEncoderPool;
before(async () => { wh = await testWarehouse('floe-encpool-'); pool = new ParquetEncoderPool({ size: 2 }); });
after(async () => { await pool.close(); await wh.cleanup(); });

async function createTable(catalog: Catalog, name: string, opts: { partition?: string; properties?: Record<string, string> } = {}) {
  const id = { namespace: ['t'], name };
  if (!(await catalog.listNamespaces()).some((n) => n.join('.') === 't')) await catalog.createNamespace(['t']);
  await catalog.createTable(id, {
    schema: SCHEMA,
    ...(opts.partition ? { spec: parsePartitionExpression(opts.partition, SCHEMA) } : {}),
    ...(opts.properties ? { properties: opts.properties } : {}),
  });
  return id;
}

/** Writes `rows` into a new table with the given writer options and commits them. */
async function append(name: string, rows: readonly unknown[], options: DataFileWriterOptions, table: { partition?: string; properties?: Record<string, string> } = {}) {
  const id = await createTable(wh.catalog, name, table);
  const t = await wh.catalog.loadTable(id);
  const writer = new DataFileWriter({
    schema: currentSchema(t.metadata), spec: defaultSpec(t.metadata), properties: t.metadata.properties, location: t.metadata.location, io: wh.catalog.io,
  }, options);
  const files = await writer.write(rows);
  await commitWithRetry(wh.catalog, id, new FastAppend(wh.catalog.io, files), {});
  return { id, files, location: t.metadata.location };
}

/** A data file's description without what names it (path) or depends on page layout (sizes). */
function comparable(f: DataFile) {
  return {
    partition: f.partition, recordCount: f.recordCount, valueCounts: f.valueCounts, nullValueCounts: f.nullValueCounts,
    nanValueCounts: f.nanValueCounts, lowerBounds: f.lowerBounds, upperBounds: f.upperBounds,
    rowGroups: f.splitOffsets?.length, name: path.basename(f.filePath).replace(/-[0-9a-f-]{36}\.parquet$/, ''),
  };
}

const sortById = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

const ON: DataFileWriterOptions = { encoderPool: null, encodeMinRows: 1_000, workerBatchRows: 5_000 };

describe('appends encoded on worker threads', () => {
  it('write the same rows, files and manifest metrics as the main thread', async () => {
    const rows = makeRows(23_456);
    const off = await append('plain_off', rows, { encoderPool: null });
    const on = await append('plain_on', rows, { ...ON, encoderPool: pool });
    assert.ok(pool.started >= 1, 'the pool encoded the file');
    assert.deepEqual(on.files.map(comparable), off.files.map(comparable));
    assert.equal(on.files.length, 1);
    assert.deepEqual(sortById(await readTableRows(wh.catalog, on.id)), sortById(await readTableRows(wh.catalog, off.id)));
  });

  it('roll files at write.target-file-size-bytes and fan out partitions the same way', async () => {
    const rows = makeRows(60_000);
    // Small files and row groups: several files per partition, several row groups per file,
    // more files than workers.
    const table = { partition: 'kind', properties: { 'write.target-file-size-bytes': '120000', 'write.parquet.row-group-size-bytes': '60000' } };
    const off = await append('rolled_off', rows, { encoderPool: null }, table);
    const on = await append('rolled_on', rows, { ...ON, encoderPool: pool }, table);
    assert.ok(off.files.length >= 6, `expected several files, got ${off.files.map((f) => `${f.recordCount}/${f.splitOffsets?.length}`).join(' ')}`);
    assert.ok(off.files.some((f) => (f.splitOffsets?.length ?? 0) > 1), 'some file has several row groups');
    assert.deepEqual(on.files.map(comparable), off.files.map(comparable));
    assert.deepEqual(sortById(await readTableRows(wh.catalog, on.id)), sortById(await readTableRows(wh.catalog, off.id)));
  });

  for (const mode of ['throw', 'exit'] as const) {
    it(`fail cleanly when a worker ${mode === 'throw' ? 'reports an error' : 'dies'} mid-file, leaving no file`, async () => {
      const faulty = new ParquetEncoderPool({ size: 1, fault: { atBatch: 3, mode } });
      try {
        const id = await createTable(wh.catalog, `fault_${mode}`);
        const t = await wh.catalog.loadTable(id);
        const writer = new DataFileWriter({
          schema: SCHEMA, spec: defaultSpec(t.metadata), properties: t.metadata.properties, location: t.metadata.location, io: wh.catalog.io,
        }, { ...ON, encoderPool: faulty });
        await assert.rejects(writer.write(makeRows(30_000)), (err: unknown) => {
          assert.ok(err instanceof EncoderWorkerError, String(err));
          assert.match(err.message, /encoding .*\/data\/00000-0-[0-9a-f-]+\.parquet on a worker thread failed/);
          assert.match(err.message, mode === 'throw' ? /injected encoder fault at batch 3/ : /exited with code 3/);
          return true;
        });
        const data = path.join(t.metadata.location.replace(/^file:\/\//, ''), 'data');
        assert.deepEqual(existsSync(data) ? readdirSync(data) : [], []);
        // The pool recovers: the next file is encoded (by a fresh worker after a crash).
        const again = await writer.write(makeRows(2_000));
        assert.equal(again.length, 1);
        assert.equal(again[0]!.recordCount, 2_000n);
      } finally {
        await faulty.close();
      }
    });
  }

  it('a bad record after some batches went to a worker fails the write with its index and frees the worker', async () => {
    const id = await createTable(wh.catalog, 'bad_record');
    const t = await wh.catalog.loadTable(id);
    const single = new ParquetEncoderPool({ size: 1 });
    try {
      const writer = new DataFileWriter({
        schema: SCHEMA, spec: defaultSpec(t.metadata), properties: t.metadata.properties, location: t.metadata.location, io: wh.catalog.io,
      }, { ...ON, encoderPool: single });
      const rows = makeRows(20_000);
      rows[17_000] = { ...rows[17_000], n: 'not a number' };
      await assert.rejects(writer.write(rows), (err: unknown) => err instanceof RecordValidationError && /17000/.test(err.message));
      const data = path.join(t.metadata.location.replace(/^file:\/\//, ''), 'data');
      assert.deepEqual(existsSync(data) ? readdirSync(data) : [], []);
      const ok = await writer.write(makeRows(5_000));
      assert.equal(ok[0]!.recordCount, 5_000n);
    } finally {
      await single.close();
    }
  });
});

describe('encoder pool settings', () => {
  it('FLOE_ENCODE_WORKERS: default min(2, cores), 0 turns the pool off, nonsense is refused by name', async () => {
    const { encodeWorkersFromEnv, encodeMinRowsFromEnv, DEFAULT_ENCODE_MIN_ROWS } = await import('../../../src/workers/parquet-encoder-pool.ts');
    const os = await import('node:os');
    assert.equal(encodeWorkersFromEnv({}), Math.min(2, os.availableParallelism()));
    assert.equal(encodeWorkersFromEnv({ FLOE_ENCODE_WORKERS: '0' }), 0);
    assert.equal(encodeWorkersFromEnv({ FLOE_ENCODE_WORKERS: '3' }), 3);
    assert.throws(() => encodeWorkersFromEnv({ FLOE_ENCODE_WORKERS: 'two' }), /FLOE_ENCODE_WORKERS must be a whole number ≥ 0, got 'two'/);
    assert.equal(encodeMinRowsFromEnv({}), DEFAULT_ENCODE_MIN_ROWS);
    assert.equal(encodeMinRowsFromEnv({ FLOE_ENCODE_MIN_ROWS: '5000' }), 5000);
    assert.throws(() => encodeMinRowsFromEnv({ FLOE_ENCODE_MIN_ROWS: '0' }), /FLOE_ENCODE_MIN_ROWS must be a whole number ≥ 1, got '0'/);
  });

  it('files below the threshold are encoded on the main thread (no worker starts)', async () => {
    const idle = new ParquetEncoderPool({ size: 1 });
    try {
      const { files } = await append('below_threshold', makeRows(3_000), { encoderPool: idle, encodeMinRows: 3_001 });
      assert.equal(files.length, 1);
      assert.equal(idle.started, 0);
    } finally {
      await idle.close();
    }
  });

  it('files of fewer rows but many bytes go to a worker from 16,384 rows on', async () => {
    const wide = new ParquetEncoderPool({ size: 1 });
    try {
      const opts = { encoderPool: wide, encodeMinRows: 1_000_000, encodeMinBytes: 1_000_000 };
      await append('wide_small', makeRows(10_000), opts);
      assert.equal(wide.started, 0, 'below 16,384 rows stays on the main thread');
      const { files } = await append('wide_large', makeRows(20_000), opts);
      assert.equal(wide.started, 1, 'above the byte threshold with enough rows goes to a worker');
      assert.equal(files[0]!.recordCount, 20_000n);
      // What the ingest metric floe_ingest_wasm_memory_bytes{thread="encoders"} reads: the worker's
      // WASM memory held at least the file it encoded.
      assert.ok(wide.wasmHeapBytes >= Number(files[0]!.fileSizeInBytes), `worker WASM memory ${wide.wasmHeapBytes} B`);
    } finally {
      await wide.close();
    }
  });
});

describe('batches handed to a worker', () => {
  it('cover the file exactly, full-sized until the last two, which halve down to 4,096 rows', () => {
    for (const [rows, full] of [[1_000_000, 65_536], [200_000, 50_000], [9_000, 4_096], [131_073, 65_536], [4_096, 4_096], [70_000, 65_536]] as const) {
      const sizes: number[] = [];
      for (let at = 0; at < rows; at += sizes.at(-1)!) sizes.push(tailBatchRows(rows - at, full));
      assert.equal(sizes.reduce((a, b) => a + b, 0), rows, `${rows} rows`);
      assert.ok(sizes.every((s) => s > 0 && s <= full), `${rows}: ${sizes}`);
      const firstShort = sizes.findIndex((s) => s < full);
      if (firstShort >= 0) {
        const tail = sizes.slice(firstShort);
        for (let i = 1; i < tail.length; i++) assert.ok(tail[i]! <= tail[i - 1]!, `${rows}: the tail shrinks (${sizes})`);
        assert.ok(sizes.slice(0, firstShort).every((s) => s === full));
      }
      if (rows >= 2 * full) assert.ok(sizes.at(-1)! <= 4_096, `${rows}: ends on a small batch (${sizes})`);
    }
  });
});
