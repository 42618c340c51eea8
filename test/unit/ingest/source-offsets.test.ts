// Offsets in snapshot summaries: recorded per commit, resolved per partition from the
// branch's history, and a batch whose offsets were already committed is refused — also when
// the other writer wins the race and the loser re-validates on the new base.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import { committedOffsets, kafkaSourceId, positionHeads, offsetsSummary, offsetsValidator, StaleBatchError, type OffsetRange } from '../../../src/ingest/source-offsets.ts';
import { expireSnapshots, planSnapshotExpiry } from '../../../compaction/expire-snapshots.ts';
import { rewriteManifests } from '../../../compaction/rewrite-manifests.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import type { TableMetadata } from '../../../src/spec/table-metadata.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { quarantineBranch } from '../../../src/wap/quarantine.ts';
import { publishBranch } from '../../../src/wap/publish.ts';
import { auditPropertyKey } from '../../../src/wap/branch-status.ts';
import { setRefRetention } from '../../../src/transaction/manage-refs.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }] }, { assignIds: true });
const ID = { namespace: ['k'], name: 't' };
const SOURCE = kafkaSourceId('group-a', 'orders');

function appendBatch(wh: TestWarehouse, ranges: [number, bigint, bigint][], opts: { branch?: string } = {}) {
  const map = new Map<number, OffsetRange>(ranges.map(([p, start, next]) => [p, { start, next }]));
  const records = ranges.flatMap(([p, start, next]) => Array.from({ length: Number(next - start) }, (_, i) => ({ id: p * 1_000_000 + Number(start) + i })));
  return appendRecords(wh.catalog, ID, records, { summary: offsetsSummary(SOURCE, map), validate: offsetsValidator(SOURCE, map), ...opts });
}

describe('source offsets in the table', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['k']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.retry.min-wait-ms': '1' } });
  });
  afterEach(async () => { await wh.cleanup(); });

  test('each partition resolves to its newest committed next-offset on the branch', async () => {
    await appendBatch(wh, [[0, 0n, 10n], [1, 0n, 5n]]);
    const r = await appendBatch(wh, [[0, 10n, 20n]]);
    // Every snapshot carries the branch's positions forward: partition 1 is in the head too.
    assert.equal(r.snapshot.summary['floe.offsets.kafka/group-a/orders'], '{"0":20,"1":5}');
    const m = (await wh.catalog.loadTable(ID)).metadata;
    assert.deepStrictEqual(committedOffsets(m, 'main', SOURCE), new Map([[0, 20n], [1, 5n]]));
    assert.deepStrictEqual(committedOffsets(m, 'main', kafkaSourceId('other', 'orders')), new Map());
    // A branch that does not exist yet forks from main, so it starts from main's positions.
    assert.deepStrictEqual(committedOffsets(m, 'audit', SOURCE), new Map([[0, 20n], [1, 5n]]));
  });

  test('a branch counts its own quarantined batches, not those of a branch named <branch>/x', async () => {
    await appendBatch(wh, [[0, 0n, 10n]]);
    await appendBatch(wh, [[0, 10n, 50n]], { branch: 'a/b' });
    const q = await quarantineBranch(wh.catalog, ID, { branch: 'a/b', record: { checkedAtMs: 1, checks: 1, failed: [] }, log: pino({ level: 'silent' }) });
    assert.match(q.quarantineBranch, /^quarantine\/a\/b\/\d+$/);
    await appendBatch(wh, [[0, 10n, 15n]], { branch: 'a' });
    const qa = await quarantineBranch(wh.catalog, ID, { branch: 'a', record: { checkedAtMs: 1, checks: 1, failed: [] }, log: pino({ level: 'silent' }) });
    const m = (await wh.catalog.loadTable(ID)).metadata;
    assert.deepStrictEqual(positionHeads(m, 'a').sort(), [m.refs.main!.snapshotId, qa.snapshotId].sort(), 'main (a does not exist now) and a\'s own quarantined batch');
    assert.deepStrictEqual(committedOffsets(m, 'a', SOURCE), new Map([[0, 15n]]), 'offsets 15..50 of a/b\'s quarantined batch are not a\'s');
    assert.deepStrictEqual(committedOffsets(m, 'a/b', SOURCE), new Map([[0, 50n]]));
  });

  test('expiry by max-ref-age-ms keeps a quarantined batch until its branch has offsets as far; its audit record goes with it', async () => {
    await appendBatch(wh, [[0, 0n, 10n]]);
    await appendBatch(wh, [[0, 10n, 20n]], { branch: 'audit' });
    const log = pino({ level: 'silent' });
    const q = await quarantineBranch(wh.catalog, ID, { branch: 'audit', record: { checkedAtMs: 1, checks: 1, failed: [] }, log });
    await setRefRetention(wh.catalog, ID, q.quarantineBranch, { maxRefAgeMs: 1 });
    const later = { nowMs: Date.now() + 60_000 };
    await expireSnapshots(wh.catalog, ID, later);
    let m = (await wh.catalog.loadTable(ID)).metadata;
    assert.ok(m.refs[q.quarantineBranch], 'kept past its max-ref-age-ms: nothing else records offsets 10..20');
    assert.deepStrictEqual(committedOffsets(m, 'audit', SOURCE), new Map([[0, 20n]]), 'a restarted ingest does not read 10..20 again');
    // The next batch is published: main now records offsets beyond the quarantined ones.
    await appendBatch(wh, [[0, 20n, 30n]], { branch: 'audit' });
    await publishBranch(wh.catalog, ID, { branch: 'audit', dropBranch: true });
    await expireSnapshots(wh.catalog, ID, later);
    m = (await wh.catalog.loadTable(ID)).metadata;
    assert.equal(m.refs[q.quarantineBranch], undefined, 'now it expires');
    assert.equal(m.properties[auditPropertyKey(q.quarantineBranch)], undefined, 'with its audit record');
    assert.deepStrictEqual(committedOffsets(m, 'audit', SOURCE), new Map([[0, 30n]]));
  });

  test('a replayed batch is refused and leaves no file', async () => {
    await appendBatch(wh, [[0, 0n, 10n]]);
    const before = (await wh.catalog.io.list(`file://${wh.dir}/k/t/`)).length;
    await assert.rejects(appendBatch(wh, [[0, 5n, 15n]]), StaleBatchError);
    assert.equal((await wh.catalog.io.list(`file://${wh.dir}/k/t/`)).length, before);
    assert.equal((await wh.catalog.loadTable(ID)).metadata.snapshots.length, 1);
  });

  test('two writers racing with the same offsets: exactly one batch lands', async () => {
    const results = await Promise.allSettled([appendBatch(wh, [[3, 0n, 50n]]), appendBatch(wh, [[3, 0n, 50n]])]);
    assert.deepStrictEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(rejected.reason instanceof StaleBatchError, String(rejected.reason));
    const m = (await wh.catalog.loadTable(ID)).metadata;
    assert.equal(m.snapshots.length, 1);
    assert.equal(m.snapshots[0]!.summary['total-records'], '50');
  });

  test('maintenance snapshots carry the positions and expiry never drops the last snapshot that has them', async () => {
    await appendBatch(wh, [[0, 0n, 10n], [1, 0n, 5n]]);
    await appendBatch(wh, [[0, 10n, 20n]]);
    await appendRecords(wh.catalog, ID, [{ id: 1 }]); // a plain append, no offsets of its own
    const r = await rewriteManifests(wh.catalog, ID);
    assert.ok(r.snapshotId !== null);
    let m = (await wh.catalog.loadTable(ID)).metadata;
    const head = m.snapshots.find((s) => s.snapshotId === r.snapshotId)!;
    assert.equal(head.summary['floe.offsets.kafka/group-a/orders'], '{"0":20,"1":5}');
    await expireSnapshots(wh.catalog, ID, { nowMs: Date.now() + 1000, olderThanMs: 0, retainLast: 1 });
    m = (await wh.catalog.loadTable(ID)).metadata;
    assert.equal(m.snapshots.length, 1);
    assert.deepStrictEqual(committedOffsets(m, 'main', SOURCE), new Map([[0, 20n], [1, 5n]]));
  });

  test('expiry keeps the newest snapshot with positions when another engine committed after it', async () => {
    await appendBatch(wh, [[0, 0n, 10n]]);
    await appendBatch(wh, [[0, 10n, 20n]]);
    await appendRecords(wh.catalog, ID, [{ id: 1 }]);
    const real = (await wh.catalog.loadTable(ID)).metadata;
    // The head as another engine (Spark, pyiceberg) would have written it: no floe keys.
    const foreignHead = real.snapshots.map((s) => s.snapshotId === real.currentSnapshotId
      ? { ...s, summary: { operation: 'append' } } : s);
    const m: TableMetadata = { ...real, snapshots: foreignHead };
    const plan = planSnapshotExpiry(m, { nowMs: Date.now() + 1000, olderThanMs: 0, retainLast: 1 });
    const second = real.snapshots[1]!;
    assert.equal(plan.expire.length, 1, 'only the oldest goes');
    assert.ok(plan.retained.includes(second.snapshotId), 'the newest snapshot with offsets is kept');
    assert.ok(!plan.expire.includes(second.snapshotId));
  });
});
