// Pruning proves partition values and column bounds: readers plan fewer files for a
// predicate on a partition column and for one on a clustered (sorted-by-batch) column.
// Trino's count is the splits of its table scan (one per data file this small), from the
// query's stats (the same number EXPLAIN ANALYZE prints as "Splits").
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { ALL_READERS, ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = readersUnavailable();
const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'ts', required: true, type: 'timestamptz' },
    { name: 'name', required: false, type: 'string' },
  ],
}, { assignIds: true });

describe('file pruning by partition values and bounds', { skip }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['prune']);
    const id = { namespace: ['prune'], name: 'events' };
    await wh.catalog.createTable(id, { schema: SCHEMA, spec: parsePartitionExpression('day(ts)', SCHEMA) });
    // 4 appends × 3 days = 12 files; ids grow with each append (clustered), names too.
    for (let batch = 0; batch < 4; batch++) {
      const rows = Array.from({ length: 300 }, (_, i) => ({
        id: batch * 1000 + i,
        ts: `2026-01-0${1 + (i % 3)}T12:00:00Z`,
        name: `batch${batch}-${String(i).padStart(3, '0')}`,
      }));
      await appendRecords(wh.catalog, id, rows);
    }
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  const base = (reader: ReaderName) => ({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'prune.events' });

  for (const reader of ALL_READERS) {
    test(`${reader}: all 12 files without a predicate`, async () => {
      const res = await readers.read(base(reader));
      assert.equal(res.rows.length, 1200);
      assert.equal(res.filesScanned, 12);
    });

    test(`${reader}: a day predicate reads only that day's 4 files`, async () => {
      const res = await readers.read({ ...base(reader), filter: { column: 'ts', op: '<', value: '2026-01-02T00:00:00.000000+00:00' } });
      assert.equal(res.rows.length, 400);
      assert.equal(res.filesScanned, 4);
    });

    test(`${reader}: an id range predicate reads only one append's 3 files (bounds)`, async () => {
      const res = await readers.read({ ...base(reader), filter: { column: 'id', op: '>=', value: '3000' } });
      assert.equal(res.rows.length, 300);
      assert.equal(res.filesScanned, 3);
    });

    test(`${reader}: a string predicate prunes by string bounds`, async () => {
      const res = await readers.read({ ...base(reader), filter: { column: 'name', op: '<', value: 'batch1' } });
      assert.equal(res.rows.length, 300);
      assert.equal(res.filesScanned, 3);
    });
  }
});
