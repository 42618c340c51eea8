// MODEL CHECK for publish on a moved main: random histories (fast-check, seeded) — a branch
// forks from main, takes batches of appends, MERGEs (upserts and deletes by key, merge-on-read
// and copy-on-write; on a `write.upsert.enabled` table equality deletes) and deletes by
// predicate (`floe delete --where`, re-validated by their predicate), while main gets appends
// (some reusing the branch's keys), MERGEs, deletes by predicate and compaction, the two
// interleaved — then `publishBranch`. The model is a twin table that gets the same operations
// applied directly to main, main's first and the branch's after: the published table must have
// exactly the twin's live rows (values), or the publish is refused as a conflict and then main,
// the branch and the metadata log are exactly as before. Both outcomes must occur. Live rows are
// read in-process (deletes applied) and, when the reader venv exists, with DuckDB and pyiceberg
// (pyiceberg refuses equality deletes: EQUALITY_DELETES_SUPPORT).
// Env: FLOE_PUBLISH_MODEL_SEED, FLOE_PUBLISH_MODEL_RUNS (longer searches).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { compactTable } from '../../compaction/compact-table.ts';
import { deleteWhere } from '../../src/merge/delete-where.ts';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { CherryPickConflictError } from '../../src/transaction/cherry-pick.ts';
import { publishBranch } from '../../src/wap/publish.ts';
import { WapMetrics } from '../../src/wap/wap-metrics.ts';
import { Registry } from 'prom-client';
import { readLiveRows } from '../support/live-table-rows.ts';
import { EQUALITY_DELETES_SUPPORT, ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const FIELDS = [
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'region', required: true, type: 'string' },
  { id: 3, name: 'v', required: false, type: 'string' },
];
const SCHEMA = schemaFromJson({ type: 'struct', 'identifier-field-ids': [1], fields: FIELDS }, { assignIds: true });
const KEYLESS_SCHEMA = schemaFromJson({ type: 'struct', fields: FIELDS }, { assignIds: true });

type Mode = 'merge-on-read' | 'copy-on-write';
interface Change { op: 'u' | 'd'; id: number; region: string }
type BranchOp = { kind: 'append'; n: number; region: string } | { kind: 'merge'; mode: Mode; changes: Change[] }
  | { kind: 'delete-where'; mode: Mode; where: string };
type MainOp = BranchOp | { kind: 'append-keys'; ids: number[]; region: string } | { kind: 'compact' };

// Few keys, so both sides often touch the same ones.
const KEYS = 10;
const regionArb = fc.constantFrom('eu', 'us');
const changeArb = fc.record({ op: fc.constantFrom<'u' | 'd'>('u', 'u', 'd'), id: fc.integer({ min: 0, max: KEYS - 1 }), region: regionArb });
const modeArb = fc.constantFrom<Mode>('merge-on-read', 'copy-on-write');
// Predicates on the partition column, the key (appended keys are >= 1000: `id >= k` matches
// them, `id < k` never does) and a non-key column that updates change.
const whereArb = fc.oneof(
  regionArb.map((r) => `region = '${r}'`),
  fc.integer({ min: 0, max: KEYS }).map((k) => `id < ${k}`),
  fc.integer({ min: 0, max: KEYS }).map((k) => `id >= ${k}`),
  fc.tuple(regionArb, fc.integer({ min: 0, max: KEYS })).map(([r, k]) => `region = '${r}' AND id < ${k}`),
  fc.constant(`v = 'init'`),
);
const branchOpArb: fc.Arbitrary<BranchOp> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 3 }), region: regionArb }),
  fc.record({ kind: fc.constant('merge' as const), mode: modeArb, changes: fc.array(changeArb, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('delete-where' as const), mode: modeArb, where: whereArb }),
);
const mainOpArb: fc.Arbitrary<MainOp> = fc.oneof(
  branchOpArb,
  fc.record({ kind: fc.constant('append-keys' as const), ids: fc.array(fc.integer({ min: 0, max: KEYS - 1 }), { minLength: 1, maxLength: 2 }), region: regionArb }),
  fc.constant({ kind: 'compact' as const }),
);
// A table without a key takes no MERGE (it needs a key).
const historyArb = (keyless: boolean) => fc.record({
  branch: fc.array(keyless ? branchOpArb.filter((op) => op.kind !== 'merge') : branchOpArb, { minLength: 1, maxLength: 3 }),
  main: fc.array(keyless ? mainOpArb.filter((op) => op.kind !== 'merge') : mainOpArb, { minLength: 1, maxLength: 3 }),
  // Where each main op goes relative to the branch ops (0 = before the branch forks).
  slots: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
});
type History = { branch: BranchOp[]; main: MainOp[]; slots: number[] };

const EXAMPLES: { keyless: boolean; h: History }[] = [
  // Regression: an update by position delete + insert nets to zero rows per key, and was
  // once not seen as touching its key (main's duplicate of key 5 then survived the merge).
  { keyless: false, h: { branch: [{ kind: 'merge', mode: 'merge-on-read', changes: [{ op: 'u', id: 5, region: 'eu' }] }], main: [{ kind: 'append-keys', ids: [5], region: 'us' }], slots: [1, 1, 1] } },
  // Regression: a delete by predicate was validated by key only, so a row main appended
  // under a new key that matches the predicate survived the publish.
  { keyless: true, h: { branch: [{ kind: 'delete-where', mode: 'merge-on-read', where: "region = 'us'" }], main: [{ kind: 'append', n: 2, region: 'us' }], slots: [1, 1, 1] } },
  // Regression: a MERGE that only inserted key 3 (main deleted it before the fork) commits
  // an append, which was not validated, so main's new row for key 3 stayed next to it.
  { keyless: false, h: { branch: [{ kind: 'merge', mode: 'merge-on-read', changes: [{ op: 'u', id: 3, region: 'eu' }] }], main: [{ kind: 'merge', mode: 'merge-on-read', changes: [{ op: 'd', id: 3, region: 'eu' }] }, { kind: 'append-keys', ids: [3], region: 'us' }], slots: [0, 1, 1] } },
];

const rowKey = (r: Record<string, unknown>): string => `${String(r.id)}|${String(r.region)}|${String(r.v)}`;

describe('publish on a moved main: model check', () => {
  let wh: TestWarehouse;
  let readers: ReaderServer | undefined;
  const noReaders = readersUnavailable();
  before(async () => {
    wh = await testWarehouse('floe-publish-model-');
    await wh.catalog.createNamespace(['pm']);
    if (!noReaders) readers = new ReaderServer();
  });
  after(async () => { await readers?.close(); await wh?.cleanup(); });

  const variants = [
    { name: 'position deletes / copy-on-write, partitioned by a non-key column', upsert: false, seed: 22, runs: 80 },
    { name: 'equality deletes (write.upsert.enabled), bucketed by the key', upsert: true, seed: 7202, runs: 25 },
    // Without a key, deletes by predicate are the only row-level batches publish can re-validate.
    { name: 'table without a key: appends, deletes by predicate, compaction', upsert: false, keyless: true, seed: 404, runs: 20 },
  ];
  let tableNo = 0;
  for (const variant of variants) {
    test(variant.name, async () => {
      const outcomes = { published: 0, refused: 0 };
      await fc.assert(fc.asyncProperty(historyArb(variant.keyless ?? false), async (h) => {
        const n = tableNo++;
        const T: TableIdentifier = { namespace: ['pm'], name: `t${n}` };
        const W: TableIdentifier = { namespace: ['pm'], name: `w${n}` };
        const spec = parsePartitionExpression(variant.upsert ? 'bucket(2,id)' : 'region', SCHEMA);
        const properties = { 'commit.retry.min-wait-ms': '1', ...(variant.upsert ? { 'write.upsert.enabled': 'true' } : {}) };
        for (const id of [T, W]) {
          await wh.catalog.createTable(id, { schema: variant.keyless ? KEYLESS_SCHEMA : SCHEMA, spec, properties });
          await appendRecords(wh.catalog, id, Array.from({ length: KEYS }, (_, i) => ({ id: i, region: i % 2 ? 'eu' : 'us', v: 'init' })));
        }
        let fresh = 1000;
        let tag = 0;
        // Records are built once per op, so T and W get the same values. A run says whether it
        // committed a snapshot (a delete or MERGE that matched nothing commits none).
        const build = (op: MainOp): (id: TableIdentifier, branch?: string) => Promise<boolean> => {
          const t = `op${tag++}`;
          const opts = (branch?: string) => (branch ? { branch } : {});
          switch (op.kind) {
            case 'append': {
              const recs = Array.from({ length: op.n }, () => ({ id: fresh++, region: op.region, v: t }));
              return async (id, branch) => { await appendRecords(wh.catalog, id, recs, opts(branch)); return true; };
            }
            case 'append-keys': {
              const recs = op.ids.map((k) => ({ id: k, region: op.region, v: t }));
              return async (id, branch) => { await appendRecords(wh.catalog, id, recs, opts(branch)); return true; };
            }
            case 'merge': {
              const recs = op.changes.map((c) => ({ _op: c.op, id: c.id, region: c.region, v: `${t}-${c.id}` }));
              return async (id, branch) => (await mergeRecords(wh.catalog, id, recs, { opField: '_op', mode: op.mode, ...opts(branch) })).snapshot !== undefined;
            }
            case 'delete-where':
              return async (id, branch) => (await deleteWhere(wh.catalog, id, op.where, { mode: op.mode, ...opts(branch) })).snapshot !== undefined;
            case 'compact':
              return async (id, branch) => { await compactTable(wh.catalog, id, { minInputFiles: 1, ...opts(branch) }); return true; };
          }
        };
        const branchOps = h.branch.map(build);
        const mainOps = h.main.map(build);
        // Interleave on T: main op i goes before branch op slots[i] (or after all of them).
        const mainOrder: typeof mainOps = [];
        const staged: typeof branchOps = [];
        for (let b = 0; b <= branchOps.length; b++) {
          for (const [i, run] of mainOps.entries()) if (Math.min(h.slots[i] ?? 0, branchOps.length) === b) { await run(T); mainOrder.push(run); }
          if (b < branchOps.length && await branchOps[b]!(T, 'b')) staged.push(branchOps[b]!);
        }
        // A branch op that committed nothing is not part of what is published (nothing was staged).
        if (staged.length === 0) return;
        // The twin: the same operations directly on main, main's first, in the order main got them.
        for (const run of mainOrder) await run(W);
        for (const run of staged) await run(W);

        const before = (await wh.catalog.loadTable(T)).metadata;
        let refused: CherryPickConflictError | undefined;
        try {
          await publishBranch(wh.catalog, T, { branch: 'b', metrics: new WapMetrics(new Registry()) });
        } catch (e) {
          if (!(e instanceof CherryPickConflictError)) throw e;
          refused = e;
        }
        const afterMeta = (await wh.catalog.loadTable(T)).metadata;
        if (refused) {
          outcomes.refused++;
          assert.doesNotMatch(refused.message, /\n/);
          assert.equal(afterMeta.refs.main?.snapshotId, before.refs.main?.snapshotId, 'main unchanged after a refusal');
          assert.equal(afterMeta.refs.b?.snapshotId, before.refs.b?.snapshotId, 'branch unchanged after a refusal');
          assert.equal(afterMeta.metadataLog.length, before.metadataLog.length, 'no commit after a refusal');
          return;
        }
        outcomes.published++;
        assert.equal(afterMeta.refs.b?.snapshotId, afterMeta.refs.main?.snapshotId, 'branch reset to main');
        const expected = (await readLiveRows(wh.catalog, W)).map(rowKey).sort();
        const got = (await readLiveRows(wh.catalog, T)).map(rowKey).sort();
        assert.deepEqual(got, expected, `published table != the same operations applied directly (history ${JSON.stringify(h)})`);
        if (readers) {
          const hasEq = variant.upsert;
          for (const reader of ['duckdb', 'pyiceberg'] as ReaderName[]) {
            if (hasEq && EQUALITY_DELETES_SUPPORT[reader] === 'refuses') continue;
            const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: `pm.${T.name}` });
            assert.deepEqual(res.rows.map(rowKey).sort(), expected, `${reader} reads the published table as the direct one`);
          }
        }
      }), {
        seed: Number(process.env.FLOE_PUBLISH_MODEL_SEED ?? variant.seed), numRuns: Number(process.env.FLOE_PUBLISH_MODEL_RUNS ?? variant.runs), endOnFailure: true,
        examples: EXAMPLES.filter((e) => e.keyless || !variant.keyless).map((e) => [e.h]),
      });
      if (process.env.FLOE_TEST_VERBOSE) console.log(variant.name, outcomes);
      assert.ok(outcomes.published > 0 && outcomes.refused > 0, `both outcomes must occur: ${JSON.stringify(outcomes)}`);
    });
  }
});
