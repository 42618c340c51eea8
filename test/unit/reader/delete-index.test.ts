// The delete index applies the spec's scan-planning rules: position deletes with a sequence
// number >= the data file's, equality deletes strictly newer; same spec and partition, or a
// delete of an unpartitioned spec; referenced_data_file and file_path bounds skip delete files
// that cannot name the data file (without reading them); each delete file is read once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NotFoundError } from '../../../src/errors.ts';
import type { FileIO } from '../../../src/io/file-io.ts';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';
import { scanColumns } from '../../../src/reader/data-file-reader.ts';
import { buildDeleteIndex, equalityKey, type DeleteEntry } from '../../../src/reader/delete-index.ts';
import { FileContent, type DataFile } from '../../../src/spec/data-file.ts';
import { parsePartitionExpression, type PartitionSpec } from '../../../src/spec/partition-spec.ts';
import { DELETE_FILE_PATH_FIELD_ID } from '../../../src/spec/position-delete-schema.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { encodeSingleValue } from '../../../src/spec/single-value.ts';
import { DataFileWriter } from '../../../src/writer/data-file-writer.ts';
import { writePositionDeletes } from '../../../src/writer/position-delete-writer.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'region', required: true, type: 'string' },
  { id: 3, name: 'score', required: false, type: 'double' },
] });
const UNPARTITIONED: PartitionSpec = { specId: 0, fields: [] };
const BY_REGION = parsePartitionExpression('region', SCHEMA, 1);
const VOID_ONLY = parsePartitionExpression('void(region)', SCHEMA, 2);
const SPECS = new Map([[0, UNPARTITIONED], [1, BY_REGION], [2, VOID_ONLY]]);
const specOf = (id: number): PartitionSpec => SPECS.get(id)!;
const LOCATION = 'mem://wh/t';

/** A FileIO that counts reads per path. */
class CountingIO extends MemoryFileIO {
  readonly reads = new Map<string, number>();
  override async read(uri: string): Promise<Uint8Array> {
    this.reads.set(uri, (this.reads.get(uri) ?? 0) + 1);
    return super.read(uri);
  }
}

async function dataFile(io: FileIO, spec: PartitionSpec, rows: readonly Record<string, unknown>[]): Promise<DataFile> {
  const files = await new DataFileWriter({ schema: SCHEMA, spec, properties: {}, location: LOCATION, io }).write(rows);
  assert.equal(files.length, 1);
  return files[0]!;
}

const posDeletes = (io: FileIO, spec: PartitionSpec, partition: readonly string[], deletes: Record<string, number[]>): Promise<DataFile> =>
  writePositionDeletes({ io, location: LOCATION, schema: SCHEMA, spec, properties: {} }, partition, new Map(Object.entries(deletes)));

const rows = (region: string, n: number, from = 0): Record<string, unknown>[] => Array.from({ length: n }, (_, i) => ({ id: BigInt(from + i), region, score: i % 3 === 0 ? null : i / 2 }));

test('position deletes: sequence numbers, partitions, global deletes of an unpartitioned spec', async () => {
  const io = new CountingIO();
  const a = await dataFile(io, BY_REGION, rows('eu', 5));
  const b = await dataFile(io, BY_REGION, rows('eu', 5, 5));
  const c = await dataFile(io, BY_REGION, rows('us', 5, 10));
  const euDeletes = await posDeletes(io, BY_REGION, ['eu'], { [a.filePath]: [0, 2], [b.filePath]: [4], [c.filePath]: [1] });
  const global = await posDeletes(io, UNPARTITIONED, [], { [c.filePath]: [3], [a.filePath]: [2, 3] });
  const index = await buildDeleteIndex(io, [{ file: euDeletes, sequenceNumber: 5n }, { file: global, sequenceNumber: 7n }]);

  assert.deepStrictEqual(await index.deletedPositions(a, 5n, specOf), new Set([0, 2, 3]), 'same sequence number applies; global deletes too');
  assert.deepStrictEqual(await index.deletedPositions(a, 6n, specOf), new Set([2, 3]), 'an older partition delete does not apply');
  assert.equal(await index.deletedPositions(a, 8n, specOf), undefined, 'nothing newer');
  assert.deepStrictEqual(await index.deletedPositions(b, 1n, specOf), new Set([4]));
  // euDeletes names c, but c lives in partition 'us': only the global delete reaches it.
  assert.deepStrictEqual(await index.deletedPositions(c, 1n, specOf), new Set([3]));
  assert.deepStrictEqual(index.positionDeleteFiles(c, 1n, specOf).map((f) => f.filePath), [global.filePath]);
  assert.equal(io.reads.get(euDeletes.filePath), 1, 'each delete file is read once');
  assert.equal(io.reads.get(global.filePath), 1);
});

test('a delete file of a void-only spec is global; a data file of an unpartitioned spec meets only global deletes', async () => {
  const io = new MemoryFileIO();
  const d0 = await dataFile(io, UNPARTITIONED, rows('eu', 4));
  const d1 = await dataFile(io, BY_REGION, rows('us', 4));
  const voidDeletes = await posDeletes(io, VOID_ONLY, [null as unknown as string], { [d0.filePath]: [1], [d1.filePath]: [2] });
  const index = await buildDeleteIndex(io, [{ file: voidDeletes, sequenceNumber: 3n }]);
  assert.deepStrictEqual(await index.deletedPositions(d0, 1n, specOf), new Set([1]));
  assert.deepStrictEqual(await index.deletedPositions(d1, 1n, specOf), new Set([2]));
});

test('referenced_data_file and file_path bounds skip delete files without reading them', async () => {
  const io = new MemoryFileIO();
  const a = await dataFile(io, UNPARTITIONED, rows('eu', 3));
  const missing = (name: string, over: Partial<DataFile>): DeleteEntry => ({
    sequenceNumber: 9n,
    file: {
      content: FileContent.PositionDeletes, filePath: `${LOCATION}/data/${name}-deletes.parquet`, fileFormat: 'parquet', specId: 0, partition: [],
      recordCount: 1n, fileSizeInBytes: 100n, ...over,
    },
  });
  const bound = (s: string): Map<number, Uint8Array> => new Map([[DELETE_FILE_PATH_FIELD_ID, encodeSingleValue({ kind: 'string' }, s)]]);
  // None of these files exists: reading any of them would fail.
  const index = await buildDeleteIndex(io, [
    missing('other-file', { referencedDataFile: `${LOCATION}/data/other.parquet` }),
    missing('below', { lowerBounds: bound(`${LOCATION}/data/0`), upperBounds: bound(`${LOCATION}/data/00`) }),
    missing('above', { lowerBounds: bound(`${a.filePath}0`), upperBounds: bound(`${LOCATION}/data/zz`) }),
  ]);
  assert.equal(await index.deletedPositions(a, 1n, specOf), undefined);
  assert.deepStrictEqual(index.positionDeleteFiles(a, 1n, specOf), []);
  // A delete file whose bounds enclose the path is read (and here fails: it does not exist).
  const enclosing = await buildDeleteIndex(io, [missing('enclosing', { lowerBounds: bound(a.filePath), upperBounds: bound(a.filePath) })]);
  await assert.rejects(enclosing.deletedPositions(a, 1n, specOf), NotFoundError);
});

test('equality deletes apply only when strictly newer, grouped by equality ids; keys match the data rows they delete', async () => {
  const io = new MemoryFileIO();
  const data = await dataFile(io, BY_REGION, rows('eu', 12));
  const eqFile = async (fieldIds: number[], records: Record<string, unknown>[], spec = BY_REGION, partition: string[] = ['eu']): Promise<DataFile> => {
    const f = await dataFile(io, spec, records.map((r) => ({ region: partition[0] ?? 'eu', ...r })));
    return { ...f, content: FileContent.EqualityDeletes, equalityIds: fieldIds, partition };
  };
  const byId = await eqFile([1], [{ id: 3n }, { id: 7n }]);
  const byIdAgain = await eqFile([1], [{ id: 8n }]);
  const byScore = await eqFile([3, 2], [{ id: 0n, score: null }, { id: 0n, score: 2.5 }]);
  const otherPartition = await eqFile([1], [{ id: 4n, region: 'us' }], BY_REGION, ['us']);
  const index = await buildDeleteIndex(io, [
    { file: byId, sequenceNumber: 4n }, { file: byIdAgain, sequenceNumber: 5n }, { file: byScore, sequenceNumber: 5n }, { file: otherPartition, sequenceNumber: 9n },
  ]);
  assert.deepStrictEqual(await index.equalityDeletes(data, 5n, specOf), [], 'same sequence number: equality deletes do not apply');
  const groups = await index.equalityDeletes(data, 4n, specOf);
  assert.deepStrictEqual(groups.map((g) => g.fieldIds), [[1], [3, 2]]);
  assert.deepStrictEqual(index.equalityDeleteFiles(data, 3n, specOf).map((f) => f.filePath), [byId.filePath, byIdAgain.filePath, byScore.filePath]);
  // Which data rows do they delete? Read the data file's key columns and look the keys up.
  const deleted: bigint[] = [];
  await scanColumns(io, data, [1, 2, 3], (_first, n, col) => {
    for (let i = 0; i < n; i++) {
      if (groups.some((g) => g.keys.has(equalityKey(g.fieldIds.map((id) => col(id)(i)))))) deleted.push(col(1)(i) as bigint);
    }
  });
  // id 8 (seq 5 > 4), not ids 3/7 (seq 4); score null (ids 0, 3, 6, 9) and 2.5 (id 5) in region eu.
  assert.deepStrictEqual(deleted, [0n, 3n, 5n, 6n, 8n, 9n]);
});

test('equalityKey: equal exactly when the values are equal for equality deletes', () => {
  const value = fc.oneof(
    fc.constant(null), fc.boolean(), fc.double(), fc.bigInt(), fc.integer({ min: -3, max: 3 }), fc.bigInt(-3n, 3n), fc.constantFrom(1e21, 10n ** 21n, -0, 0, Number.NaN), fc.string({ unit: 'binary', maxLength: 6 }), fc.uint8Array({ maxLength: 4 }),
  );
  const same = (a: unknown, b: unknown): boolean => {
    if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
    if (typeof a === 'number' && typeof b === 'bigint') return Number.isInteger(a) && !Object.is(a, -0) && BigInt(a) === b;
    if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b) && !Object.is(b, -0) && BigInt(b) === a;
    return Object.is(a, b);
  };
  fc.assert(fc.property(fc.array(value, { maxLength: 3 }), fc.array(value, { maxLength: 3 }), (x, y) => {
    const equal = x.length === y.length && x.every((v, i) => same(v, y[i]));
    assert.equal(equalityKey(x) === equalityKey(y), equal, `${String(x)} vs ${String(y)}`);
  }), { seed: 77, numRuns: 2000 });
  assert.equal(equalityKey([1]), equalityKey([1n]), 'an int and a promoted long of the same value agree');
  assert.notEqual(equalityKey([0]), equalityKey([-0]));
  assert.notEqual(equalityKey(['a,b']), equalityKey(['a', 'b']));
});
