// The equality-delete writer: content 2 with equality_ids, the equality columns under the
// table's field ids (a column inside a struct keeps its struct), metrics for the rows written;
// read back with the delete index's reader, the keys are exactly the rows given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';
import { equalityKey, readEqualityDeleteFile } from '../../../src/reader/delete-index.ts';
import { FileContent } from '../../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { decodeSingleValue } from '../../../src/spec/single-value.ts';
import { equalityDeleteSchema, writeEqualityDeletes } from '../../../src/writer/equality-delete-writer.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'region', required: true, type: 'string' },
    { name: 'src', required: false, type: { type: 'struct', fields: [{ name: 'sys', required: false, type: 'string' }, { name: 'n', required: false, type: 'int' }] } },
    { name: 'tags', required: false, type: { type: 'list', element: 'string', 'element-required': false } },
  ],
}, { assignIds: true });
const SPEC = parsePartitionExpression('region', SCHEMA);
const idOf = (name: string): number => SCHEMA.findFieldByName(name)!.id;

test('writes the equality columns with their field ids, equality_ids and metrics; reads back the same keys', async () => {
  const io = new MemoryFileIO();
  const target = { io, location: 'mem://wh/t', schema: SCHEMA, spec: SPEC, properties: {} };
  const ids = [idOf('id'), idOf('src.sys')];
  const rows = [
    { id: 5, region: 'eu', src: { sys: 'a', n: 1 } },
    { id: '7', src: null },
    { id: 9, src: { sys: 'b' } },
  ];
  const f = await writeEqualityDeletes(target, ['eu'], ids, rows);
  assert.equal(f.content, FileContent.EqualityDeletes);
  assert.deepStrictEqual(f.equalityIds, ids);
  assert.equal(f.recordCount, 3n);
  assert.match(f.filePath, /^mem:\/\/wh\/t\/data\/region=eu\/.*-eq-deletes\.parquet$/);
  assert.equal(f.fileSizeInBytes, BigInt((await io.read(f.filePath)).length));
  assert.equal(decodeSingleValue({ kind: 'long' }, f.lowerBounds!.get(idOf('id'))!), 5n);
  assert.equal(decodeSingleValue({ kind: 'long' }, f.upperBounds!.get(idOf('id'))!), 9n);
  assert.equal(f.nullValueCounts!.get(idOf('src.sys')), 1n);
  assert.equal(f.valueCounts!.get(idOf('src.n')), undefined, 'only the equality columns are written');
  const keys = await readEqualityDeleteFile(io, f);
  assert.deepStrictEqual([...keys].sort(), [equalityKey([5n, 'a']), equalityKey([7n, null]), equalityKey([9n, 'b'])].sort());
});

test('refuses ids that are not primitive columns outside lists, and an empty file, naming the field', async () => {
  assert.throws(() => equalityDeleteSchema(SCHEMA, [idOf('src')]), /'src' is not a primitive/);
  assert.throws(() => equalityDeleteSchema(SCHEMA, [idOf('tags.element')]), /inside a list or map/);
  assert.throws(() => equalityDeleteSchema(SCHEMA, [999]), /999 is not in schema/);
  assert.throws(() => equalityDeleteSchema(SCHEMA, []), /at least one/);
  const target = { io: new MemoryFileIO(), location: 'mem://wh/t', schema: SCHEMA, spec: SPEC, properties: {} };
  await assert.rejects(writeEqualityDeletes(target, ['eu'], [idOf('id')], []), /at least one row/);
  await assert.rejects(writeEqualityDeletes(target, [], [idOf('id')], [{ id: 1 }]), /partition tuple has 0 values/);
  await assert.rejects(writeEqualityDeletes(target, ['eu'], [idOf('id')], [{ id: 'x' }]), /id/);
});
