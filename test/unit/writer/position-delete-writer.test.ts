// Position-delete files as floe writes them: rows sorted by path then position, the reserved
// field ids in the Parquet schema (checked with pyarrow), full file_path bounds (long paths
// are not truncated), exact counts, referenced_data_file only when one data file is named —
// and read back with the delete index's reader to the same positions.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from '../../../src/errors.ts';
import { readThriftStruct, type ThriftStruct } from '../../../src/format/thrift-compact.ts';
import { LocalFileIO, pathToUri, uriToPath } from '../../../src/io/local-file-io.ts';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';
import { scanColumns } from '../../../src/reader/data-file-reader.ts';
import { readPositionDeleteFile } from '../../../src/reader/delete-index.ts';
import { FileContent } from '../../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../../src/spec/partition-spec.ts';
import { DELETE_FILE_PATH_FIELD_ID, DELETE_POS_FIELD_ID } from '../../../src/spec/position-delete-schema.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { compareCodePoints, decodeSingleValue } from '../../../src/spec/single-value.ts';
import { writePositionDeletes } from '../../../src/writer/position-delete-writer.ts';
import { VENV_PYTHON } from '../../support/readers.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'region', required: true, type: 'string' },
] });
const SPEC = parsePartitionExpression('region', SCHEMA, 1);
const UNPARTITIONED = { specId: 0, fields: [] };
const STRING = { kind: 'string' } as const;
const LONG = { kind: 'long' } as const;

const dataPath = fc.tuple(fc.constantFrom('a', 'b', 'é', 'z/ü'), fc.string({ unit: 'binary', maxLength: 40 }))
  .map(([dir, name]) => `mem://wh/t/data/${dir}/${name}-00000-0-0123456789abcdef.parquet`);

test('any delete map round-trips: sorted rows, full bounds, exact counts, referenced file iff one', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.tuple(dataPath, fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 40 })), { minLength: 1, maxLength: 6 }),
    async (pairs) => {
      const io = new MemoryFileIO();
      const deletes = new Map<string, number[]>();
      for (const [p, positions] of pairs) deletes.set(p, [...(deletes.get(p) ?? []), ...positions]);
      const f = await writePositionDeletes({ io, location: 'mem://wh/t', schema: SCHEMA, spec: UNPARTITIONED, properties: {} }, [], deletes);
      const want = [...deletes].map(([p, ps]) => [p, [...new Set(ps)].sort((a, b) => a - b)] as const)
        .sort((a, b) => compareCodePoints(a[0], b[0]));
      const rows: [string, bigint][] = [];
      await scanColumns(io, f, [DELETE_FILE_PATH_FIELD_ID, DELETE_POS_FIELD_ID], (_first, n, col) => {
        for (let i = 0; i < n; i++) rows.push([col(DELETE_FILE_PATH_FIELD_ID)(i) as string, col(DELETE_POS_FIELD_ID)(i) as bigint]);
      }, { batchSize: 7 });
      assert.deepStrictEqual(rows, want.flatMap(([p, ps]) => ps.map((pos) => [p, BigInt(pos)] as [string, bigint])), 'rows sorted by file_path then pos');
      assert.deepStrictEqual(await readPositionDeleteFile(io, f), new Map(want.map(([p, ps]) => [p, ps])));
      assert.equal(f.content, FileContent.PositionDeletes);
      assert.equal(f.recordCount, BigInt(rows.length));
      assert.equal(f.fileSizeInBytes, BigInt((await io.read(f.filePath)).length));
      assert.equal(f.valueCounts!.get(DELETE_FILE_PATH_FIELD_ID), BigInt(rows.length));
      assert.equal(f.nullValueCounts!.get(DELETE_POS_FIELD_ID), 0n);
      assert.equal(decodeSingleValue(STRING, f.lowerBounds!.get(DELETE_FILE_PATH_FIELD_ID)!), want[0]![0], 'lower file_path bound is the full first path');
      assert.equal(decodeSingleValue(STRING, f.upperBounds!.get(DELETE_FILE_PATH_FIELD_ID)!), want.at(-1)![0], 'upper file_path bound is the full last path');
      const allPos = want.flatMap(([, ps]) => ps);
      assert.equal(decodeSingleValue(LONG, f.lowerBounds!.get(DELETE_POS_FIELD_ID)!), BigInt(Math.min(...allPos)));
      assert.equal(decodeSingleValue(LONG, f.upperBounds!.get(DELETE_POS_FIELD_ID)!), BigInt(Math.max(...allPos)));
      assert.equal(f.referencedDataFile, want.length === 1 ? want[0]![0] : null);
      assert.match(f.filePath, /^mem:\/\/wh\/t\/data\/00000-0-[0-9a-f-]{36}-deletes\.parquet$/);
    },
  ), { seed: 4242, numRuns: 60 });
});

test('the file goes to the partition folder of the data files; codec follows write.delete.parquet.compression-codec', async () => {
  const io = new MemoryFileIO();
  const target = { io, location: 'mem://wh/t', schema: SCHEMA, spec: SPEC, properties: { 'write.parquet.compression-codec': 'snappy' } };
  const f = await writePositionDeletes(target, ['eu west'], new Map([['mem://wh/t/data/region=eu%20west/x.parquet', [3, 1]]]));
  assert.match(f.filePath, /^mem:\/\/wh\/t\/data\/region=eu%20west\/00000-0-.*-deletes\.parquet$/);
  assert.equal(f.specId, 1);
  assert.deepStrictEqual(f.partition, ['eu west']);
  const codecOf = async (props: Record<string, string>): Promise<string> => {
    const g = await writePositionDeletes({ ...target, properties: props }, ['eu'], new Map([['p', [1]]]));
    return codecName(await io.read(g.filePath));
  };
  assert.equal(await codecOf({ 'write.parquet.compression-codec': 'snappy' }), 'SNAPPY');
  assert.equal(await codecOf({ 'write.parquet.compression-codec': 'snappy', 'write.delete.parquet.compression-codec': 'gzip' }), 'GZIP');
  assert.equal(await codecOf({}), 'ZSTD');
  await assert.rejects(writePositionDeletes(target, ['eu'], new Map([['p', [-1]]])), (e) => e instanceof ValidationError && e.message.includes('p'));
  await assert.rejects(writePositionDeletes(target, ['eu'], new Map()), ValidationError);
  await assert.rejects(writePositionDeletes(target, [], new Map([['p', [1]]])), ValidationError, 'partition tuple of the wrong arity');
});

/** The codec of the first column chunk (ColumnMetaData field 4 in the Thrift footer). */
function codecName(bytes: Uint8Array): string {
  const len = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8).getUint32(0, true);
  const meta = readThriftStruct(bytes.subarray(bytes.length - 8 - len, bytes.length - 8), 'footer');
  const rowGroup = (meta.get(4) as ThriftStruct[])[0]!;
  const chunk = (rowGroup.get(1) as ThriftStruct[])[0]!;
  const codec = Number((chunk.get(3) as ThriftStruct).get(4));
  return ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'][codec]!;
}

test('pyarrow reads the reserved field ids and the sorted rows', { skip: !existsSync(VENV_PYTHON) && `no Python venv at ${VENV_PYTHON} (set FLOE_VENV)` }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'floe-posdel-'));
  try {
    const io = new LocalFileIO();
    const deletes = new Map([['file:/b/2.parquet', [9, 0, 4]], ['file:/a/1.parquet', [7]], ['file:/b/10.parquet', [1]]]);
    const f = await writePositionDeletes({ io, location: pathToUri(dir), schema: SCHEMA, spec: UNPARTITIONED, properties: {} }, [], deletes);
    const script = [
      'import json, sys, pyarrow.parquet as pq',
      't = pq.read_table(sys.argv[1])',
      'print(json.dumps({"ids": [f.metadata[b"PARQUET:field_id"].decode() for f in t.schema], "names": t.schema.names,',
      '  "types": [str(f.type) for f in t.schema], "nullable": [f.nullable for f in t.schema], "rows": [[r["file_path"], r["pos"]] for r in t.to_pylist()]}))',
    ].join('\n');
    const out = JSON.parse(execFileSync(VENV_PYTHON, ['-c', script, uriToPath(f.filePath)], { encoding: 'utf8' }));
    assert.deepStrictEqual(out.names, ['file_path', 'pos']);
    assert.deepStrictEqual(out.ids, ['2147483546', '2147483545']);
    assert.deepStrictEqual(out.types, ['string', 'int64']);
    assert.deepStrictEqual(out.nullable, [false, false]);
    assert.deepStrictEqual(out.rows, [['file:/a/1.parquet', 7], ['file:/b/10.parquet', 1], ['file:/b/2.parquet', 0], ['file:/b/2.parquet', 4], ['file:/b/2.parquet', 9]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
