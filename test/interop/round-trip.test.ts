// Round trip through the real readers: every primitive type and nested types, appended in
// several snapshots by floe; pyiceberg, DuckDB and Spark must return exactly the rows written
// (values compared in canonical form) for the current snapshot and for each older one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import type { Schema } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_TYPES_SCHEMA_JSON, generateRows } from '../support/datagen.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = readersUnavailable();

describe('round trip of every type through pyiceberg, DuckDB and Spark', { skip }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let schema: Schema;
  const id = { namespace: ['interop'], name: 'all_types' };
  const snapshots: { id: bigint; rows: Record<string, unknown>[] }[] = [];

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    schema = schemaFromJson(ALL_TYPES_SCHEMA_JSON, { assignIds: true });
    await wh.catalog.createNamespace(['interop']);
    await wh.catalog.createTable(id, { schema });
    let all: Record<string, unknown>[] = [];
    for (let batch = 0; batch < 3; batch++) {
      const rows = generateRows(schema, 150, 1000 + batch, batch * 1000);
      const result = await appendRecords(wh.catalog, id, rows.map((r) => r.input));
      all = [...all, ...rows.map((r) => r.values)];
      snapshots.push({ id: result.snapshot.snapshotId, rows: canonicalRows(schema, all) });
    }
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  for (const reader of ALL_READERS) {
    test(`${reader} reads the current snapshot exactly`, async () => {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.all_types' });
      const expected = snapshots.at(-1)!.rows;
      const actual = normalizeRows(schema, res.rows);
      assert.equal(actual.length, expected.length);
      assert.deepStrictEqual(actual, expected);
    });

    test(`${reader} reads every older snapshot by id`, async () => {
      for (const snap of snapshots) {
        const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.all_types', snapshotId: snap.id });
        assert.deepStrictEqual(normalizeRows(schema, res.rows), snap.rows, `snapshot ${snap.id}`);
      }
    });
  }
});
