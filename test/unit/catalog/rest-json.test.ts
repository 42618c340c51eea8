// The REST spec's JSON names for every table update and requirement floe sends (Java's
// TableUpdate/UpdateRequirement parsers read exactly these), bigints written exactly, and the
// file: URI spelling the Java server hands back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeFileUri, requirementToJson, updateToJson } from '../../../catalog/rest/rest-json.ts';
import { stringifyJsonExact } from '../../../src/spec/json.ts';
import { parsePartitionExpression } from '../../../src/spec/partition-spec.ts';
import { Schema } from '../../../src/spec/schema.ts';

const schema = new Schema(1, [{ id: 1, name: 'id', required: true, type: { kind: 'long' } }], [1]);

test('every update serialises with the spec\'s field names', () => {
  const snapshot = { snapshotId: 9007199254740993n, parentSnapshotId: 7n, sequenceNumber: 3n, timestampMs: 5, manifestList: 'file:///t/m.avro', summary: { operation: 'append' as const }, schemaId: 1 };
  assert.equal(stringifyJsonExact(updateToJson({ action: 'add-snapshot', snapshot })),
    '{"action":"add-snapshot","snapshot":{"snapshot-id":9007199254740993,"parent-snapshot-id":7,"sequence-number":3,"timestamp-ms":5,"manifest-list":"file:///t/m.avro","summary":{"operation":"append"},"schema-id":1}}');
  assert.deepEqual(updateToJson({ action: 'set-snapshot-ref', refName: 'audit', type: 'branch', snapshotId: 4n, maxRefAgeMs: 10, minSnapshotsToKeep: 2 }),
    { action: 'set-snapshot-ref', 'ref-name': 'audit', type: 'branch', 'snapshot-id': 4n, 'min-snapshots-to-keep': 2, 'max-ref-age-ms': 10 });
  assert.deepEqual(updateToJson({ action: 'add-schema', schema, lastColumnId: 1 }),
    { action: 'add-schema', schema: { type: 'struct', 'schema-id': 1, 'identifier-field-ids': [1], fields: [{ id: 1, name: 'id', required: true, type: 'long' }] }, 'last-column-id': 1 });
  assert.deepEqual(updateToJson({ action: 'set-current-schema', schemaId: 1 }), { action: 'set-current-schema', 'schema-id': 1 });
  const spec = parsePartitionExpression('bucket(4,id)', schema, 1, 999);
  assert.deepEqual(updateToJson({ action: 'add-spec', spec }),
    { action: 'add-spec', spec: { 'spec-id': 1, fields: [{ 'source-id': 1, 'field-id': 1000, name: 'id_bucket_4', transform: 'bucket[4]' }] } });
  assert.deepEqual(updateToJson({ action: 'set-default-spec', specId: 1 }), { action: 'set-default-spec', 'spec-id': 1 });
  assert.deepEqual(updateToJson({ action: 'set-default-sort-order', sortOrderId: 0 }), { action: 'set-default-sort-order', 'sort-order-id': 0 });
  assert.deepEqual(updateToJson({ action: 'remove-snapshots', snapshotIds: [1n, 2n] }), { action: 'remove-snapshots', 'snapshot-ids': [1n, 2n] });
  assert.deepEqual(updateToJson({ action: 'remove-snapshot-ref', refName: 'b' }), { action: 'remove-snapshot-ref', 'ref-name': 'b' });
  assert.deepEqual(updateToJson({ action: 'set-location', location: 'file:///x' }), { action: 'set-location', location: 'file:///x' });
  assert.deepEqual(updateToJson({ action: 'set-properties', updates: { a: 'b' } }), { action: 'set-properties', updates: { a: 'b' } });
  assert.deepEqual(updateToJson({ action: 'remove-properties', removals: ['a'] }), { action: 'remove-properties', removals: ['a'] });
});

test('every requirement serialises with the spec\'s field names; a missing ref is snapshot-id null', () => {
  assert.equal(stringifyJsonExact(requirementToJson({ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: null })), '{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":null}');
  assert.equal(stringifyJsonExact(requirementToJson({ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: 9007199254740993n })), '{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":9007199254740993}');
  assert.deepEqual(requirementToJson({ type: 'assert-create' }), { type: 'assert-create' });
  assert.deepEqual(requirementToJson({ type: 'assert-table-uuid', uuid: 'u' }), { type: 'assert-table-uuid', uuid: 'u' });
  assert.deepEqual(requirementToJson({ type: 'assert-last-assigned-field-id', lastAssignedFieldId: 3 }), { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 3 });
  assert.deepEqual(requirementToJson({ type: 'assert-current-schema-id', currentSchemaId: 0 }), { type: 'assert-current-schema-id', 'current-schema-id': 0 });
  assert.deepEqual(requirementToJson({ type: 'assert-last-assigned-partition-id', lastAssignedPartitionId: 999 }), { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 999 });
  assert.deepEqual(requirementToJson({ type: 'assert-default-spec-id', defaultSpecId: 0 }), { type: 'assert-default-spec-id', 'default-spec-id': 0 });
  assert.deepEqual(requirementToJson({ type: 'assert-default-sort-order-id', defaultSortOrderId: 0 }), { type: 'assert-default-sort-order-id', 'default-sort-order-id': 0 });
});

test('file:/abs from Hadoop becomes file:///abs; other URIs stay as written', () => {
  assert.equal(normalizeFileUri('file:/tmp/w/t/metadata/00000-a.metadata.json'), 'file:///tmp/w/t/metadata/00000-a.metadata.json');
  assert.equal(normalizeFileUri('file:///tmp/w'), 'file:///tmp/w');
  assert.equal(normalizeFileUri('s3://b/k'), 's3://b/k');
});
