// Round trip through the real readers: every primitive type and nested types, appended in
// several snapshots by floe; pyiceberg, DuckDB and Spark must return exactly the rows written
// (values compared in canonical form) for the current snapshot and for each older one.
// Spark has no TIME type and refuses any table with a time column, so Spark reads a twin
// table written from the same rows without that column.
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
  const tables: Record<string, { schema: Schema; snapshots: { id: bigint; rows: Record<string, unknown>[] }[] }> = {};
  const tableFor = (reader: string): string => (reader === 'spark' ? 'all_types_no_time' : 'all_types');

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['interop']);
    const noTime = { ...ALL_TYPES_SCHEMA_JSON, fields: ALL_TYPES_SCHEMA_JSON.fields.filter((f) => f.type !== 'time') };
    for (const [name, json] of [['all_types', ALL_TYPES_SCHEMA_JSON], ['all_types_no_time', noTime]] as const) {
      const schema = schemaFromJson(json, { assignIds: true });
      const id = { namespace: ['interop'], name };
      await wh.catalog.createTable(id, { schema });
      const entry = { schema, snapshots: [] as { id: bigint; rows: Record<string, unknown>[] }[] };
      let all: Record<string, unknown>[] = [];
      for (let batch = 0; batch < 3; batch++) {
        const rows = generateRows(schema, 150, 1000 + batch, batch * 1000);
        const result = await appendRecords(wh.catalog, id, rows.map((r) => r.input));
        all = [...all, ...rows.map((r) => r.values)];
        entry.snapshots.push({ id: result.snapshot.snapshotId, rows: canonicalRows(schema, all) });
      }
      tables[name] = entry;
    }
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  for (const reader of ALL_READERS) {
    test(`${reader} reads the current snapshot exactly`, async () => {
      const { schema, snapshots } = tables[tableFor(reader)]!;
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: `interop.${tableFor(reader)}` });
      const expected = snapshots.at(-1)!.rows;
      const actual = normalizeRows(schema, res.rows);
      assert.equal(actual.length, expected.length);
      assert.deepStrictEqual(actual, expected);
    });

    test(`${reader} reads every older snapshot by id`, async () => {
      const { schema, snapshots } = tables[tableFor(reader)]!;
      for (const snap of snapshots) {
        const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: `interop.${tableFor(reader)}`, snapshotId: snap.id });
        assert.deepStrictEqual(normalizeRows(schema, res.rows), snap.rows, `snapshot ${snap.id}`);
      }
    });
  }
});
