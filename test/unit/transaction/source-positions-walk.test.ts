// carriedSourcePositions reuses the merged positions of the ancestors it walked for the
// previous commit. Whatever the sequence of calls (a branch growing, another branch, expiry of
// the oldest snapshots or of one in the middle, a snapshot replaced by an equal-looking object),
// the result must be
// the one a full walk gives — checked against a plain reimplementation of the rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot, TableMetadata } from '../../../src/spec/table-metadata.ts';
import { carriedSourcePositions, decodeOffsets, encodeOffsets } from '../../../src/transaction/source-positions.ts';

function naive(m: TableMetadata, headId: bigint | undefined, own: Record<string, string>): Record<string, string> {
  const byId = new Map(m.snapshots.map((s) => [s.snapshotId, s]));
  const summaries = [own];
  let cur = headId === undefined ? undefined : byId.get(headId);
  while (cur) { summaries.push(cur.summary); cur = cur.parentSnapshotId === null ? undefined : byId.get(cur.parentSnapshotId); }
  const offsets = new Map<string, Map<number, bigint>>();
  const files = new Map<string, string>();
  for (const s of summaries) {
    for (const [k, v] of Object.entries(s)) {
      if (k.startsWith('floe.offsets.')) {
        const o = offsets.get(k) ?? new Map<number, bigint>();
        offsets.set(k, o);
        for (const [p, n] of decodeOffsets(v)) if (!o.has(p)) o.set(p, n);
      } else if (k.startsWith('floe.source-file.') && !files.has(k)) files.set(k, v);
    }
  }
  return { ...Object.fromEntries([...offsets].map(([k, v]) => [k, encodeOffsets(v)])), ...Object.fromEntries(files) };
}

test('reused walks give exactly what a full walk gives', () => {
  let seed = 11;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const summary = (i: number): Record<string, string> => {
    const s: Record<string, string> = { operation: 'append' };
    if (rnd(4) === 0) s[`floe.offsets.src${rnd(3)}`] = encodeOffsets(new Map([[rnd(4), BigInt(i)], [rnd(4), BigInt(i + 1)]]));
    if (rnd(6) === 0) s[`floe.source-file.f${rnd(2)}`] = `{"n":${i}}`;
    return s;
  };
  const snap = (id: number, parent: number | null): Snapshot => ({
    snapshotId: BigInt(id), parentSnapshotId: parent === null ? null : BigInt(parent), sequenceNumber: BigInt(id),
    timestampMs: id, manifestList: `m${id}`, summary: summary(id), schemaId: 0,
  });
  let snapshots: Snapshot[] = [snap(1, null)];
  const meta = (): TableMetadata => ({ tableUuid: 'walk-test', snapshots } as unknown as TableMetadata);
  const check = (head: bigint | undefined, what: string): void => {
    const own = rnd(2) === 0 ? {} : summary(9999);
    assert.deepEqual(carriedSourcePositions(meta(), head, own), naive(meta(), head, own), what);
  };
  let main = 1;
  let side = 1;
  for (let i = 2; i <= 400; i++) {
    const r = rnd(10);
    if (r < 6) { snapshots = [...snapshots, snap(i, main)]; main = i; check(BigInt(main), `main at ${i}`); }
    else if (r < 8) { snapshots = [...snapshots, snap(i, side)]; side = i; check(BigInt(side), `side at ${i}`); }
    else if (r === 8 && rnd(2) === 0) { snapshots = snapshots.slice(1 + rnd(3)); check(BigInt(main), `after expiry at ${i}`); }
    else if (r === 8) {
      // A snapshot expired by id from the middle of the history (the chain stops there).
      const k = rnd(snapshots.length);
      snapshots = snapshots.filter((_, j) => j !== k);
      check(BigInt(main), `after expiring snapshot ${k} at ${i}`);
    }
    else {
      // An equal-looking copy of a middle ancestor with other positions (a rewritten file).
      // An ancestor of main's head (its parent when present), with a key no other snapshot has.
      const head = snapshots.find((s) => s.snapshotId === BigInt(main));
      const k = snapshots.findIndex((s) => head?.parentSnapshotId !== null && s.snapshotId === head?.parentSnapshotId);
      snapshots = snapshots.map((s, j) => (j === k ? { ...s, summary: { ...summary(i), [`floe.source-file.r${i}`]: 'x' } } : s));
      check(BigInt(main), `after replacing snapshot ${k} at ${i}`);
    }
    check(BigInt(main), `main again at ${i}`);
  }
  check(undefined, 'no head');
});
