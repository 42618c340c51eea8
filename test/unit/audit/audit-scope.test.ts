// What scope `added` means for row-level batches: a MERGE on the branch adds its inserted and
// updated rows (audited), the rows it deletes or replaces are not added; a second MERGE that
// replaces a row the branch itself added hides the older version (the branch head's position
// deletes apply), in merge-on-read, copy-on-write and equality-delete modes. A staged snapshot
// (--snapshot) is audited on its own rows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRecords } from '../../../src/merge/merge-records.ts';
import { MAIN_BRANCH } from '../../../src/spec/table-metadata.ts';
import { ORDERS, order, ordersTable } from './audit-fixtures.ts';

/** A check whose offending rows are all rows in scope, ordered: shows exactly what is audited. */
const ALL_ROWS = { type: 'sql', name: 'all', sql: 'SELECT id, region, amount FROM rows ORDER BY id, region' };

for (const mode of ['merge-on-read', 'copy-on-write', 'equality-deletes'] as const) {
  describe(`scope added after MERGE batches on a branch (${mode})`, () => {
    test('updated and inserted rows are audited, deleted and superseded ones are not', async () => {
      const t = await ordersTable(mode === 'equality-deletes' ? { 'write.upsert.enabled': 'true' } : {});
      try {
        await t.append([order(1), order(2), order(3), order(4)]);
        const opts = { branch: 'audit', opField: 'op', ...(mode === 'equality-deletes' ? {} : { mode }) };
        // Batch 1: update 2, delete 3, insert 9.
        await mergeRecords(t.wh.catalog, ORDERS, [
          { ...order(2, { region: 'us', amount: '-1.00' }), op: 'u' },
          { id: 3, op: 'd' },
          { ...order(9, { region: 'ap' }), op: 'c' },
        ], opts);
        // Batch 2 replaces the branch's own row 9 and updates 4.
        await mergeRecords(t.wh.catalog, ORDERS, [
          { ...order(9, { region: 'sa' }), op: 'u' },
          { ...order(4, { amount: '4.00' }), op: 'u' },
        ], opts);
        const r = await t.audit([ALL_ROWS, { ...ALL_ROWS, name: 'branch', scope: 'branch' }, { type: 'range', column: 'amount', min: 0 }]);
        const [added, branch, range] = r.checks;
        assert.equal(added!.total, 3);
        assert.deepEqual(added!.samples, [
          { id: '2', region: 'us', amount: '-1.00' },
          { id: '4', region: 'eu', amount: '4.00' },
          { id: '9', region: 'sa', amount: '10.00' },
        ]);
        assert.equal(branch!.total, 4);
        assert.deepEqual(branch!.samples.map((s) => s.id), ['1', '2', '4', '9']);
        assert.deepEqual([range!.failing, range!.samples[0]!.id], [1, '2']);
        // main is untouched: auditing main's own rows over itself adds nothing.
        const onMain = await t.audit([ALL_ROWS, { ...ALL_ROWS, name: 'branch', scope: 'branch' }], { branch: MAIN_BRANCH });
        assert.deepEqual(onMain.checks.map((c) => c.total), [0, 4]);
        assert.deepEqual(onMain.checks[1]!.samples.map((s) => s.id), ['1', '2', '3', '4']);
      } finally {
        await t.cleanup();
      }
    });
  });
}

describe('scope added of a staged snapshot (--snapshot)', () => {
  test('audits only that snapshot\'s own rows, even when main moved since', async () => {
    const t = await ordersTable();
    try {
      await t.append([order(1)]);
      await t.append([order(5, { region: null }), order(6)], 'audit');
      await t.append([order(7, { region: null })], 'audit');
      await t.append([order(2, { region: null })]);
      const m = (await t.wh.catalog.loadTable(ORDERS)).metadata;
      const first = m.snapshots.find((s) => s.snapshotId !== m.refs.main!.snapshotId && s.parentSnapshotId !== null && m.refs.audit!.snapshotId !== s.snapshotId)!;
      const r = await t.audit([ALL_ROWS, { type: 'not_null', column: 'region' }], { snapshotId: first.snapshotId });
      assert.equal(r.snapshotId, first.snapshotId);
      assert.deepEqual(r.checks[0]!.samples.map((s) => s.id), ['5', '6']);
      assert.equal(r.checks[1]!.failing, 1);
      const head = await t.audit([ALL_ROWS]);
      assert.deepEqual(head.checks[0]!.samples.map((s) => s.id), ['5', '6', '7'], 'main\'s later row 2 is not the branch\'s');
    } finally {
      await t.cleanup();
    }
  });
});
