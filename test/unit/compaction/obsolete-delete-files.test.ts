// The rules for dropping delete files in a compaction commit (compaction/obsolete-delete-files.ts),
// on synthetic manifests: equality deletes by partition scope and data sequence number (global
// ones for an unpartitioned spec), position deletes by the data files they name.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { obsoleteDeleteFiles } from '../../../compaction/obsolete-delete-files.ts';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';
import { DeleteIndex, type DeleteEntry } from '../../../src/reader/delete-index.ts';
import { FileContent, type DataFile } from '../../../src/spec/data-file.ts';
import { parsePartitionExpression, type PartitionSpec } from '../../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { writePositionDeletes } from '../../../src/writer/position-delete-writer.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 'region', required: true, type: 'string' }] }, { assignIds: true });
const BY_REGION = parsePartitionExpression('region', SCHEMA, 0);
const GLOBAL: PartitionSpec = { specId: 1, fields: [] };
const specOf = (id: number): PartitionSpec => (id === 0 ? BY_REGION : GLOBAL);

const file = (path: string, o: Partial<DataFile> = {}): DataFile => ({
  content: FileContent.Data, filePath: path, fileFormat: 'parquet', specId: 0, partition: ['eu'], recordCount: 10n, fileSizeInBytes: 100n, ...o,
});
const eqDelete = (path: string, o: Partial<DataFile> = {}): DataFile => file(path, { content: FileContent.EqualityDeletes, equalityIds: [1], ...o });
const posDelete = (path: string, refs: string, o: Partial<DataFile> = {}): DataFile => file(path, { content: FileContent.PositionDeletes, referencedDataFile: refs, ...o });
const e = (f: DataFile, seq: number): DeleteEntry => ({ file: f, sequenceNumber: BigInt(seq) });

async function obsolete(data: DeleteEntry[], deletes: DeleteEntry[], removed: string[], io = new MemoryFileIO()): Promise<string[]> {
  const out = await obsoleteDeleteFiles(io, { data, deletes, index: new DeleteIndex(io, deletes), specOf, removedPaths: new Set(removed) });
  return out.map((d) => d.filePath).sort();
}

describe('obsoleteDeleteFiles', () => {
  test('an equality delete goes once no older data file of its partition remains', async () => {
    const data = [e(file('a'), 1), e(file('b'), 1), e(file('c', { partition: ['us'] }), 1), e(file('new'), 5)];
    const deletes = [e(eqDelete('E'), 3)];
    assert.deepStrictEqual(await obsolete(data, deletes, ['a']), [], 'b is older and stays');
    assert.deepStrictEqual(await obsolete(data, deletes, ['a', 'b']), ['E'], 'c is another partition, new is newer');
  });

  test('a data file of the same sequence number keeps no equality delete (it must be strictly older)', async () => {
    assert.deepStrictEqual(await obsolete([e(file('a'), 3)], [e(eqDelete('E'), 3)], []), ['E']);
  });

  test('a global equality delete (unpartitioned spec) needs every older data file of every partition gone', async () => {
    const data = [e(file('a'), 1), e(file('c', { partition: ['us'] }), 1)];
    const deletes = [e(eqDelete('G', { specId: 1, partition: [] }), 3)];
    assert.deepStrictEqual(await obsolete(data, deletes, ['a']), []);
    assert.deepStrictEqual(await obsolete(data, deletes, ['a', 'c']), ['G']);
  });

  test('a position delete goes once every data file it names is removed or gone', async () => {
    const data = [e(file('a'), 1), e(file('b'), 1)];
    const deletes = [e(posDelete('Pa', 'a'), 2), e(posDelete('Pb', 'b'), 2), e(posDelete('Pgone', 'gone'), 2)];
    assert.deepStrictEqual(await obsolete(data, deletes, ['a']), ['Pa', 'Pgone']);
  });

  test('a position delete naming several files is read: it stays while one of them remains', async () => {
    const io = new MemoryFileIO();
    const target = { io, location: 'mem://t', schema: SCHEMA, spec: BY_REGION, properties: {} };
    const paths = ['mem://t/data/a.parquet', 'mem://t/data/b.parquet', 'mem://t/data/c.parquet'];
    const ab = await writePositionDeletes(target, ['eu'], new Map([[paths[0]!, [1]], [paths[2]!, [0]]]));
    const data = paths.map((p) => e(file(p), 1));
    const deletes = [e(ab, 2)];
    assert.deepStrictEqual(await obsolete(data, deletes, [paths[0]!], io), [], 'c is still live');
    assert.deepStrictEqual(await obsolete(data, deletes, [paths[0]!, paths[2]!], io), [ab.filePath]);
    // b lies between a and c, so the bounds cannot rule it out: removing only b reads the file and keeps it.
    assert.deepStrictEqual(await obsolete(data, deletes, [paths[1]!], io), []);
  });

  test('property: an equality delete is dropped exactly when no remaining data file is in its scope and older', async () => {
    const regions = ['eu', 'us'];
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ region: fc.constantFrom(...regions), seq: fc.integer({ min: 1, max: 6 }), removed: fc.boolean() }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.record({ region: fc.constantFrom('eu', 'us', null), seq: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 4 }),
      async (files, eqs) => {
        const data = files.map((f, i) => e(file(`d${i}`, { partition: [f.region] }), f.seq));
        const deletes = eqs.map((d, i) => e(eqDelete(`E${i}`, d.region === null ? { specId: 1, partition: [] } : { partition: [d.region] }), d.seq));
        const got = await obsolete(data, deletes, files.flatMap((f, i) => (f.removed ? [`d${i}`] : [])));
        const want = eqs.flatMap((d, i) => files.some((f) => !f.removed && f.seq < d.seq && (d.region === null || d.region === f.region)) ? [] : [`E${i}`]).sort();
        assert.deepStrictEqual(got, want);
      },
    ), { seed: 20261127, numRuns: 200 });
  });
});
