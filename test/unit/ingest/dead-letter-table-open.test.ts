// DeadLetterTable.open when several ingest processes start at once: a create that fails because
// another process's create was in progress (the SQL catalog's location check listing the
// other's temporary metadata file: ENOENT, or "folder not empty") is not fatal once the table
// exists. Regression: the third of three `floe ingest` processes started together exited with
// "ENOENT ... .00000-<uuid>.metadata.json.<uuid>.tmp".
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { openCatalog } from '../../../catalog/index.ts';
import { DeadLetterTable } from '../../../src/ingest/dead-letter-table.ts';
import type { Catalog } from '../../../src/table/catalog.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const DLQ = { namespace: ['ing'], name: 'dead_letters' };

/** The catalog, except that its first createTable lets "another process" create the table and
 * then fails the way the racing location check does. */
function racedCatalog(catalog: Catalog, error: Error): Catalog {
  let raced = false;
  return new Proxy(catalog, {
    get(target, prop) {
      if (prop === 'createTable' && !raced) {
        return async (...args: Parameters<Catalog['createTable']>) => {
          raced = true;
          await target.createTable(...args);
          throw error;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('DeadLetterTable.open, concurrently', () => {
  let wh: TestWarehouse;
  beforeEach(async () => { wh = await testWarehouse(); });
  afterEach(async () => { await wh.cleanup(); });

  test('a create that lost a race with a non-AlreadyExists error still opens the table', async () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, stat '/w/ing/dead_letters/metadata/.00000-x.metadata.json.y.tmp'"), { code: 'ENOENT' });
    const dlq = await DeadLetterTable.open(racedCatalog(wh.catalog, enoent), DLQ);
    assert.equal(dlq.table, DLQ);
    assert.equal(await wh.catalog.tableExists(DLQ), true);
  });

  test('a create that fails for another reason still fails', async () => {
    const failing = new Proxy(wh.catalog, {
      get(target, prop) {
        if (prop === 'createTable') return async () => { throw new Error('disk full'); };
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    await assert.rejects(DeadLetterTable.open(failing, DLQ), /disk full/);
  });

  test('three catalogs on one warehouse open it at once', async () => {
    const others = await Promise.all([1, 2].map(() => openCatalog({ warehouse: wh.dir })));
    try {
      await Promise.all([wh.catalog, ...others].map((c) => DeadLetterTable.open(c, DLQ)));
      assert.equal(await wh.catalog.tableExists(DLQ), true);
    } finally {
      for (const c of others) await c.close();
    }
  });
});
