// The metadata file's text is built from cached per-snapshot JSON and a directly written
// snapshot log; it must stay exactly the text of the whole metadata object serialised in one
// go (lossless-json's stringify as the independent reference), through successive commits that
// share snapshot objects, and whatever strings a summary holds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify as losslessStringify } from 'lossless-json';
import { Schema } from '../../../src/spec/schema.ts';
import {
  newTableMetadata, parseTableMetadata, serializeTableMetadata, serializeTableMetadataBytes, tableMetadataToJson, type Snapshot, type TableMetadata,
} from '../../../src/spec/table-metadata.ts';
import { applyUpdates } from '../../../src/spec/table-updates.ts';

const LOCATION = 'file:///warehouse/db/t';
const T0 = 1_700_000_000_000;
const schema = new Schema(0, [{ id: 1, name: 'id', required: true, type: { kind: 'long' } }], [1]);

const reference = (m: TableMetadata): string => losslessStringify(tableMetadataToJson(m))!;

function commit(m: TableMetadata, i: number, summary: Record<string, string> = {}): TableMetadata {
  const snapshot: Snapshot = {
    snapshotId: 9007199254740993n + BigInt(i) * 1_000_003n, parentSnapshotId: m.currentSnapshotId,
    sequenceNumber: m.lastSequenceNumber + 1n, timestampMs: T0 + i,
    manifestList: `${LOCATION}/metadata/snap-${i}.avro`, summary: { operation: 'append', 'added-records': `${i}`, ...summary },
    schemaId: i % 2 === 0 ? 0 : null,
  };
  return applyUpdates(m, i === 0 ? null : `${LOCATION}/metadata/${String(i).padStart(5, '0')}-x.metadata.json`, [
    { action: 'add-snapshot', snapshot },
    { action: 'set-snapshot-ref', refName: 'main', type: 'branch', snapshotId: snapshot.snapshotId },
  ], T0 + i);
}

describe('serializeTableMetadata', () => {
  test('equals the whole object serialised at once, commit after commit (cached snapshot text reused)', () => {
    let m = newTableMetadata({ location: LOCATION, schema, properties: { 'k "q"': 'v\n\u0001n:1' }, nowMs: T0, tableUuid: '9c12d441-03fe-4693-9a96-a0705ddf69c1' });
    assert.equal(serializeTableMetadata(m), reference(m));
    for (let i = 0; i < 30; i++) {
      m = commit(m, i, i === 7 ? { note: 'quote " \\ \u0001n:42 😀 \u0000' } : {});
      // Serialised twice: the second time every snapshot comes from the cache.
      assert.equal(serializeTableMetadata(m), reference(m), `after commit ${i}`);
      assert.equal(serializeTableMetadata(m), reference(m), `after commit ${i}, again`);
    }
    // Expiry drops the oldest snapshots, an older version is written again, a branch forks:
    // the kept bytes are not a prefix of the new lists then and must not be reused.
    const older = m;
    const expired = applyUpdates(m, null, [{ action: 'remove-snapshots', snapshotIds: m.snapshots.slice(0, 5).map((s) => s.snapshotId) }], T0 + 50);
    for (const v of [expired, older, expired, commit(expired, 40), older, commit(older, 41), commit(older, 42)]) {
      assert.equal(serializeTableMetadata(v), reference(v));
    }
    const tagged = applyUpdates(m, null, [{ action: 'set-snapshot-ref', refName: 'audit', type: 'tag', snapshotId: m.snapshots[3]!.snapshotId, maxRefAgeMs: 5 }], T0 + 99);
    const withStats: TableMetadata = { ...tagged, statistics: [{ 'snapshot-id': 9223372036854775807n, 'file-size-in-bytes': 42, x: undefined }], partitionStatistics: [] };
    const text = serializeTableMetadata(withStats);
    assert.equal(text, reference(withStats));
    assert.deepEqual(serializeTableMetadataBytes(withStats), new TextEncoder().encode(reference(withStats)), 'the bytes written are the UTF-8 of that text');
    const back = parseTableMetadata(text, `${LOCATION}/metadata/00031-x.metadata.json`);
    assert.equal(serializeTableMetadata(back), text, 'a parsed file (fresh snapshot objects) writes the same text');
    assert.equal(back.snapshots[7]!.summary.note, 'quote " \\ \u0001n:42 😀 \u0000');
  });

  test('built into a reused buffer: the same bytes, the buffer kept while it fits and replaced when it does not', () => {
    let m = newTableMetadata({ location: LOCATION, schema, nowMs: T0, tableUuid: '5f0b7a59-6c1a-4c57-9a43-2a4a1f7d6f10' });
    let buffer = new ArrayBuffer(0);
    const grown: number[] = [];
    for (let i = 0; i < 40; i++) {
      m = commit(m, i);
      const expected = new TextEncoder().encode(reference(m));
      const bytes = serializeTableMetadataBytes(m, buffer);
      assert.deepEqual(bytes, expected, `after commit ${i}`);
      if (bytes.buffer !== buffer) grown.push(i);
      else assert.equal(bytes.byteOffset, 0);
      // The caller hands the buffer back; stale bytes beyond the new length must not leak in.
      new Uint8Array(bytes.buffer).fill(0x7b);
      buffer = bytes.buffer as ArrayBuffer;
    }
    assert.ok(grown.length < 20, `replaced ${grown.length} times in 40 commits: room to grow is kept`);
    // A smaller file (after expiry) fits the buffer it was given.
    const expired = applyUpdates(m, null, [{ action: 'remove-snapshots', snapshotIds: m.snapshots.slice(0, 30).map((s) => s.snapshotId) }], T0 + 50);
    const small = serializeTableMetadataBytes(expired, buffer);
    assert.equal(small.buffer, buffer);
    assert.deepEqual(small, new TextEncoder().encode(reference(expired)));
  });
});
