// The pure compaction planner: selection by size and deletes, per-partition bin packing,
// the rewrite rules, expected output files and job order — no files involved.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectedOutputFiles, planRewriteGroups, plannerConfig, type PlannerFile } from '../../../compaction/planner.ts';

const MB = 1024 * 1024;
let n = 0;
const file = (sizeMb: number, o: Partial<PlannerFile> = {}): PlannerFile => ({
  path: `f${n++}.parquet`, specId: 0, partitionKey: 'p=a', sizeBytes: sizeMb * MB, recordCount: 1000,
  deleteFileCount: 0, deletedRecordCount: 0, ...o,
});
const cfg = plannerConfig({ targetFileSizeBytes: 100 * MB });

describe('planRewriteGroups', () => {
  test('defaults follow Iceberg: 75% / 180% of the target, 5 input files; table property as fallback target', () => {
    assert.equal(cfg.minFileSizeBytes, 75 * MB);
    assert.equal(cfg.maxFileSizeBytes, 180 * MB);
    assert.equal(cfg.minInputFiles, 5);
    assert.equal(plannerConfig({ tableProperties: { 'write.target-file-size-bytes': String(64 * MB) } }).targetFileSizeBytes, 64 * MB);
    assert.equal(plannerConfig().targetFileSizeBytes, 1024 * MB);
    assert.throws(() => plannerConfig({ targetFileSizeBytes: 100, minFileSizeBytes: 200 }), /min-file-size-bytes/);
  });

  test('small files of one partition are packed; well-sized files are left alone', () => {
    const small = Array.from({ length: 30 }, () => file(10));
    const ok = [file(90), file(120)];
    const plan = planRewriteGroups([...small, ...ok], cfg);
    assert.equal(plan.groups.length, 1);
    assert.equal(plan.totalInputFiles, 30);
    assert.equal(plan.totalInputBytes, 300 * MB);
    assert.equal(plan.totalExpectedOutputFiles, 3);
  });

  test('fewer than min-input-files small files are not worth a rewrite, unless they exceed the target', () => {
    assert.equal(planRewriteGroups([file(10), file(10), file(10)], cfg).groups.length, 0);
    assert.equal(planRewriteGroups([file(60), file(60)], cfg).groups.length, 1, '120 MB > target');
  });

  test('partitions and specs never mix', () => {
    const files = [
      ...Array.from({ length: 5 }, () => file(1, { partitionKey: 'p=a' })),
      ...Array.from({ length: 5 }, () => file(1, { partitionKey: 'p=b' })),
      ...Array.from({ length: 5 }, () => file(1, { partitionKey: 'p=a', specId: 1 })),
      ...Array.from({ length: 4 }, () => file(1, { partitionKey: 'p=c' })),
    ];
    const plan = planRewriteGroups(files, cfg);
    assert.deepStrictEqual(plan.groups.map((g) => `${g.specId}/${g.partitionKey}/${g.files.length}`).sort(), ['0/p=a/5', '0/p=b/5', '1/p=a/5']);
  });

  test('an oversized file is split even alone; files with many deletes are rewritten', () => {
    const big = planRewriteGroups([file(400)], cfg);
    assert.equal(big.groups.length, 1);
    assert.equal(big.groups[0]!.expectedOutputFiles, 4);
    const deleted = planRewriteGroups([file(90, { deletedRecordCount: 400 })], cfg);
    assert.equal(deleted.groups.length, 1, 'delete ratio 0.4 ≥ 0.3');
    assert.equal(planRewriteGroups([file(90, { deletedRecordCount: 100 })], cfg).groups.length, 0);
  });

  test('groups are capped by max-file-group-size-bytes', () => {
    const c = plannerConfig({ targetFileSizeBytes: 100 * MB, maxFileGroupSizeBytes: 250 * MB });
    const plan = planRewriteGroups(Array.from({ length: 50 }, () => file(10)), c);
    assert.ok(plan.groups.every((g) => g.inputBytes <= 250 * MB));
    assert.equal(plan.totalInputFiles, 50);
    assert.equal(plan.groups.length, 2);
  });

  test('expected output files spread a small remainder, keep a large one', () => {
    assert.equal(expectedOutputFiles(50 * MB, cfg), 1);
    assert.equal(expectedOutputFiles(205 * MB, cfg), 2, '5 MB remainder spread: 102.5 MB files');
    assert.equal(expectedOutputFiles(280 * MB, cfg), 3, '80 MB remainder > min size');
    assert.equal(expectedOutputFiles(250 * MB, cfg), 3, '50 MB remainder would make 125 MB files > 110% target');
  });

  test('rewrite-job-order', () => {
    const files = [
      ...Array.from({ length: 6 }, () => file(1, { partitionKey: 'small' })),
      ...Array.from({ length: 5 }, () => file(30, { partitionKey: 'large' })),
    ];
    const keys = (o: 'bytes-asc' | 'bytes-desc' | 'files-asc' | 'files-desc') => planRewriteGroups(files, plannerConfig({ targetFileSizeBytes: 100 * MB, rewriteJobOrder: o })).groups.map((g) => g.partitionKey);
    assert.deepStrictEqual(keys('bytes-asc'), ['small', 'large']);
    assert.deepStrictEqual(keys('bytes-desc'), ['large', 'small']);
    assert.deepStrictEqual(keys('files-asc'), ['large', 'small']);
    assert.deepStrictEqual(keys('files-desc'), ['small', 'large']);
  });
});
