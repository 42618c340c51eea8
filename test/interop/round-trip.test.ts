// Round trip through the real readers: every primitive type and nested types, appended in
// several snapshots by floe; pyiceberg, DuckDB, Spark and Trino must return exactly the rows
// written (values compared in canonical form) for the current snapshot and for each older one
// (Trino also by time: FOR TIMESTAMP AS OF each snapshot-log time).
// Spark has no TIME type and refuses any table with a time column, so Spark reads a twin
// table written from the same rows without that column.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Schema } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_TYPES_TABLES, allTypesSchema, allTypesTableFor as tableFor } from '../support/all-types-tables.ts';
import { generateRows } from '../support/datagen.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = readersUnavailable();

describe('round trip of every type through pyiceberg, DuckDB, Spark and Trino', { skip }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  const tables: Record<string, { schema: Schema; snapshots: { id: bigint; rows: Record<string, unknown>[] }[] }> = {};

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['interop']);
    for (const [name] of ALL_TYPES_TABLES) {
      const schema = allTypesSchema(name);
      const id = { namespace: ['interop'], name };
      await wh.catalog.createTable(id, { schema });
      const entry = { schema, snapshots: [] as { id: bigint; rows: Record<string, unknown>[] }[] };
      let all: Record<string, unknown>[] = [];
      for (let batch = 0; batch < 3; batch++) {
        const rows = generateRows(schema, 150, 1000 + batch, batch * 1000);
        const result = await appendRecords(wh.catalog, id, rows.map((r) => r.input));
        all = [...all, ...rows.map((r) => r.values)];
        entry.snapshots.push({ id: result.snapshot.snapshotId, rows: canonicalRows(schema, all) });
        // Distinct snapshot-log times, so that time travel by time has one answer per snapshot.
        await new Promise((r) => setTimeout(r, 5));
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

  if (ALL_READERS.includes('trino')) {
    test('trino reads every snapshot by time (FOR TIMESTAMP AS OF)', async () => {
      const { schema, snapshots } = tables.all_types!;
      // Time travel by time follows the snapshot log (when each snapshot became current), whose
      // times can be later than the snapshots' own timestamp-ms (floe logs the commit time).
      const log = (await wh.catalog.loadTable({ namespace: ['interop'], name: 'all_types' })).metadata.snapshotLog;
      assert.deepStrictEqual(log.map((e) => e.snapshotId), snapshots.map((s) => s.id));
      for (const [i, entry] of log.entries()) {
        const snap = snapshots[i]!;
        assert.ok(i === 0 || entry.timestampMs > log[i - 1]!.timestampMs, 'snapshot log times grow');
        // At the log entry's own millisecond, and just before the next entry.
        const next = log[i + 1]?.timestampMs ?? entry.timestampMs + 1000;
        for (const asOf of [entry.timestampMs, next - 1]) {
          const res = await readers.read({ reader: 'trino', warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.all_types', asOfTimestampMs: asOf });
          assert.deepStrictEqual(normalizeRows(schema, res.rows), snap.rows, `as of ${new Date(asOf).toISOString()} (snapshot ${snap.id})`);
        }
      }
      const before = await readers.read({ reader: 'trino', warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'interop.all_types', asOfTimestampMs: log[0]!.timestampMs - 1 })
        .then(() => 'read', (err: Error) => err.message);
      assert.match(before, /No version history table .* at or before/);
    });
  }
});
