// A table with a very long unexpired history (200,000 snapshot-log entries: one commit a second
// for two and a half days) still takes commits: applyUpdates once spread the whole log into
// Math.max and died with "Maximum call stack size exceeded" past ~125,000 entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Schema } from '../../../src/spec/schema.ts';
import { newTableMetadata, type Snapshot, type TableMetadata } from '../../../src/spec/table-metadata.ts';
import { applyUpdates } from '../../../src/spec/table-updates.ts';

test('a commit on top of a 200,000-entry snapshot log', () => {
  const T0 = 1_700_000_000_000;
  const base = newTableMetadata({ location: 'file:///w/t', schema: new Schema(0, [{ id: 1, name: 'id', required: true, type: { kind: 'long' } }]), nowMs: T0 });
  const head: Snapshot = { snapshotId: 1n, parentSnapshotId: null, sequenceNumber: 1n, timestampMs: T0, manifestList: 'file:///w/t/metadata/snap-1.avro', summary: { operation: 'append' }, schemaId: 0 };
  const m: TableMetadata = {
    ...base, snapshots: [head], currentSnapshotId: 1n, lastSequenceNumber: 1n, refs: { main: { snapshotId: 1n, type: 'branch' } },
    // The newest entry is the latest time of all: the next commit's last-updated-ms must not go back.
    snapshotLog: Array.from({ length: 200_000 }, (_, i) => ({ timestampMs: T0 + i, snapshotId: 1n })),
  };
  const next: Snapshot = { ...head, snapshotId: 2n, parentSnapshotId: 1n, sequenceNumber: 2n, manifestList: 'file:///w/t/metadata/snap-2.avro' };
  const out = applyUpdates(m, 'file:///w/t/metadata/00001-a.metadata.json', [
    { action: 'add-snapshot', snapshot: next }, { action: 'set-snapshot-ref', refName: 'main', type: 'branch', snapshotId: 2n },
  ], T0);
  assert.equal(out.currentSnapshotId, 2n);
  assert.equal(out.snapshotLog.length, 200_001);
  assert.equal(out.lastUpdatedMs, T0 + 199_999);
  assert.equal(out.snapshotLog.at(-1)!.timestampMs, T0 + 199_999);
});
