// ancestorsOf looks for a parent next to its child first (history is mostly linear) and falls
// back to an index: it must follow parent ids exactly as a plain map walk does, whatever the
// order of the snapshot list (branches interleaved, cherry-picks, expired parents).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ancestorsOf, type Snapshot, type TableMetadata } from '../../../src/spec/table-metadata.ts';

function naive(m: TableMetadata, id: bigint | undefined): bigint[] {
  const byId = new Map(m.snapshots.map((s) => [s.snapshotId, s]));
  const out: bigint[] = [];
  let cur = id === undefined ? undefined : byId.get(id);
  while (cur) { out.push(cur.snapshotId); cur = cur.parentSnapshotId === null ? undefined : byId.get(cur.parentSnapshotId); }
  return out;
}

const snap = (id: bigint, parent: bigint | null): Snapshot => ({
  snapshotId: id, parentSnapshotId: parent, sequenceNumber: id, timestampMs: 0, manifestList: `m${id}`, summary: { operation: 'append' }, schemaId: 0,
});

test('ancestorsOf follows parent ids exactly, in any list order', () => {
  // A random forest: each snapshot's parent is a random earlier one (or none, or an expired id),
  // listed in commit order, then shuffled.
  let seed = 7;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const ordered: Snapshot[] = [];
  for (let i = 1; i <= 300; i++) {
    const r = rnd(10);
    const parent = i === 1 || r === 0 ? null : r === 1 ? 100_000n + BigInt(i) : r < 6 ? BigInt(i - 1) : BigInt(1 + rnd(i - 1));
    ordered.push(snap(BigInt(i), parent));
  }
  const shuffled = [...ordered];
  for (let i = shuffled.length - 1; i > 0; i--) { const j = rnd(i + 1); [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]; }
  for (const snapshots of [ordered, shuffled, [...ordered].reverse()]) {
    const m = { snapshots } as unknown as TableMetadata;
    for (const id of [undefined, 999_999n, ...ordered.map((s) => s.snapshotId)]) {
      assert.deepEqual([...ancestorsOf(m, id)].map((s) => s.snapshotId), naive(m, id), `from ${id}`);
    }
  }
  // A long linear chain walks back to the first snapshot.
  const chain = Array.from({ length: 5000 }, (_, i) => snap(BigInt(i + 1), i === 0 ? null : BigInt(i)));
  assert.equal([...ancestorsOf({ snapshots: chain } as unknown as TableMetadata, 5000n)].length, 5000);
});
