// The dead-letter table takes every reason and payload: a lone surrogate quoted from a record
// (a field name decoded from "\ud800") once made the dead-letter append fail, and the record
// that should have been set aside stopped the pipeline instead.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { DeadLetterTable } from '../../../src/ingest/dead-letter-table.ts';
import { readTableRows } from '../../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

describe('DeadLetterTable', () => {
  let wh: TestWarehouse;
  beforeEach(async () => { wh = await testWarehouse(); });
  afterEach(async () => { await wh.cleanup(); });

  test('lone surrogates in a reason or payload are stored as escapes', async () => {
    const id = { namespace: ['dl'], name: 'dead' };
    const sink = await DeadLetterTable.open(wh.catalog, id);
    await sink.write([
      { raw: '{"\\ud800":1}', error: "line 1: field '\ud800': unknown column" },
      { raw: 'x\udc00y', error: 'ok \ud83d\ude00' },
    ], undefined, new Map());
    const rows = await readTableRows(wh.catalog, id);
    assert.deepStrictEqual(rows.map((r) => [r.payload, r.error]), [
      ['{"\\ud800":1}', "line 1: field '\\ud800': unknown column"],
      ['x\\udc00y', 'ok \ud83d\ude00'],
    ]);
  });
});
