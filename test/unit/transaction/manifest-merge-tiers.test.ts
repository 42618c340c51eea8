// Size-tiered manifest merging: 10,000 one-file commits at min-count-to-merge 100, planned with
// planManifestMerge and applied as mergeManifests would (merged bin → one manifest in its
// place). The list stays short, every file stays in exactly one manifest, and a merging commit
// rewrites about min-count entries, not the whole history (Java's bins rewrite the one big
// merged manifest every 100 commits: ~n entries, the cost that grew with history).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestContent, type ManifestFile } from '../../../src/spec/data-file.ts';
import { planManifestMerge } from '../../../src/transaction/manifest-merge.ts';

function manifest(snapshotId: bigint, entries: number, added: boolean): ManifestFile {
  return {
    manifestPath: `m-${snapshotId}-${entries}`, manifestLength: BigInt(3000 + entries * 300), partitionSpecId: 0,
    content: ManifestContent.Data, sequenceNumber: snapshotId, minSequenceNumber: 1n, addedSnapshotId: snapshotId,
    addedFilesCount: added ? entries : 0, existingFilesCount: added ? 0 : entries, deletedFilesCount: 0,
    addedRowsCount: 0n, existingRowsCount: 0n, deletedRowsCount: 0n,
  } as unknown as ManifestFile;
}
const entries = (m: ManifestFile): number => m.addedFilesCount + m.existingFilesCount + m.deletedFilesCount;

test('10,000 commits: short list, all files kept, merges rewrite ~min-count entries', () => {
  const cfg = { enabled: true, minCountToMerge: 100, targetSizeBytes: 8 * 1024 * 1024 };
  let list: ManifestFile[] = [];
  const rewritten: number[] = [];
  let maxList = 0;
  for (let c = 1; c <= 10_000; c++) {
    const id = BigInt(c);
    const plan = planManifestMerge([manifest(id, 1, true), ...list], id, cfg);
    const next: ManifestFile[] = [];
    let work = 0;
    for (const bin of plan) {
      if (!bin.merge) { next.push(...bin.manifests); continue; }
      const n = bin.manifests.reduce((s, m) => s + entries(m), 0);
      work += n;
      next.push(manifest(id, n, false));
    }
    rewritten.push(work);
    list = next;
    maxList = Math.max(maxList, list.length);
    assert.equal(list.reduce((s, m) => s + entries(m), 0), c, `every file in one manifest after commit ${c}`);
  }
  assert.ok(maxList <= 100 + Math.ceil(Math.log2(10_000 / 100)) + 1, `list length up to ${maxList}`);
  const total = rewritten.reduce((a, b) => a + b, 0);
  assert.ok(total <= 10_000 * (Math.log2(10_000 / 100) + 2), `entries rewritten in all: ${total}`);
  // p99 of the last 1,000 commits (its 10th largest merge) is a small merge, not the history.
  const last = rewritten.slice(-1000).sort((a, b) => b - a);
  assert.ok(last[9]! <= 2 * 100, `10th largest merge of the last 1,000 commits rewrites ${last[9]} entries`);
  // Java's bins would rewrite the whole history every 100 commits by then.
  assert.ok(last.filter((n) => n >= 5000).length <= 1, `big merges in the last 1,000: ${last.filter((n) => n >= 5000).length}`);
});
