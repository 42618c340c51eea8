// The write-audit-publish gate while the audit branch moves: a snapshot committed to the branch
// after the audit read it (another writer on the same branch) is never published unaudited.
// `floe publish --checks` refuses ("moved after its audit", nothing changed); the ingest gate
// (quarantineConflicts) quarantines the branch with the newer snapshot too, so main stays clean
// and no record is lost (it waits on the quarantine branch).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseAuditChecks } from '../../../src/audit/index.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import type { Catalog } from '../../../src/table/catalog.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { auditAndPublish } from '../../../src/wap/audit-and-publish.ts';
import { PublishRefusedError } from '../../../src/wap/publish-errors.ts';
import { publishBranch } from '../../../src/wap/publish.ts';
import { ValidationError } from '../../../src/errors.ts';
import { readTableRows } from '../../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }] }, { assignIds: true });
const ID = { namespace: ['db'], name: 't' };

/** The catalog, except that the first table load made by publishBranch is preceded by one
 * append to branch `audit` (after the audit, before the publish: the race, made deterministic). */
function movingCatalog(c: Catalog): Catalog {
  let moved = false;
  return new Proxy(c, {
    get(target, prop, receiver) {
      if (prop !== 'loadTable') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<Catalog['loadTable']>) => {
        if (!moved && (new Error().stack ?? '').includes('publishBranch')) {
          moved = true;
          await appendRecords(c, ID, [{ id: 99 }], { branch: 'audit' });
        }
        return target.loadTable(...args);
      };
    },
  });
}

describe('audit while the branch moves', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['db']);
    await wh.catalog.createTable(ID, { schema: SCHEMA });
    await appendRecords(wh.catalog, ID, [{ id: 1 }]);
    await appendRecords(wh.catalog, ID, [{ id: 2 }], { branch: 'audit' });
  });
  afterEach(async () => { await wh.cleanup(); });
  const ids = async (ref = 'main'): Promise<number[]> => (await readTableRows(wh.catalog, ID, ref)).map((r) => Number(r.id)).sort((a, b) => a - b);
  const checks = () => parseAuditChecks({ checks: [{ type: 'unique', columns: ['id'], scope: 'branch' }] }, 'checks.yaml');

  test('publish --checks: refused, nothing changed, the new snapshot stays staged', async () => {
    await assert.rejects(auditAndPublish(movingCatalog(wh.catalog), ID, { branch: 'audit', checks: await checks() }),
      (e: Error) => e instanceof PublishRefusedError && /branch 'audit' of db\.t moved from \d+ to \d+ after its audit: audit it again/.test(e.message));
    assert.deepEqual(await ids(), [1]);
    assert.deepEqual(await ids('audit'), [1, 2, 99]);
  });

  test('the ingest gate: the branch is quarantined with the unaudited snapshot; main untouched', async () => {
    const r = await auditAndPublish(movingCatalog(wh.catalog), ID, { branch: 'audit', checks: await checks(), quarantineConflicts: true });
    assert.equal(r.outcome, 'quarantined');
    assert.deepEqual(await ids(), [1]);
    assert.deepEqual(await ids(r.quarantineBranch!), [1, 2, 99], 'nothing lost: both snapshots wait on the quarantine branch');
    assert.equal((await wh.catalog.loadTable(ID)).metadata.refs.audit, undefined);
  });

  test('a hand-corrupted audit record: floe publish refuses in one line; the gate, which audits the head itself, publishes', async () => {
    await wh.catalog.commitTable(ID, [], [{ action: 'set-properties', updates: { 'floe.wap.audit.audit': '{"status":"passed"' } }]);
    await assert.rejects(publishBranch(wh.catalog, ID, { branch: 'audit' }), (e: Error) => e instanceof ValidationError && /^table property floe\.wap\.audit\.audit is not JSON: [^\n]+$/.test(e.message));
    assert.deepEqual(await ids(), [1]);
    const r = await auditAndPublish(wh.catalog, ID, { branch: 'audit', checks: await checks(), quarantineConflicts: true });
    assert.equal(r.outcome, 'published');
    assert.deepEqual(await ids(), [1, 2]);
  });
});
