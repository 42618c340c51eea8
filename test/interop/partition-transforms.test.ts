// Tables partitioned by each transform, read by pyiceberg, DuckDB, Spark and Trino: every row comes
// back, and point lookups on the source column return exactly the matching rows. The lookups
// go through each reader's own partition projection (bucket hash, truncation, date parts),
// so a partition value computed differently from Java/pyiceberg would drop rows here.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson, type Schema } from '../../src/spec/schema.ts';
import { RecordValidationError } from '../../src/errors.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { generateRows, rng } from '../support/datagen.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = readersUnavailable();

const SCHEMA_JSON = {
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'i', required: false, type: 'int' },
    { name: 'b', required: false, type: 'boolean' },
    { name: 's', required: false, type: 'string' },
    { name: 'd', required: false, type: 'date' },
    { name: 'ts', required: false, type: 'timestamp' },
    { name: 'tstz', required: false, type: 'timestamptz' },
    { name: 'dec', required: false, type: 'decimal(9,2)' },
    { name: 'u', required: false, type: 'uuid' },
  ],
};

// [table name, partition expression, column used for point lookups]
const CASES: [string, string, string][] = [
  ['identity_s', 's', 's'],
  ['identity_i', 'i', 'i'],
  ['identity_d', 'd', 'd'],
  ['identity_b', 'b', 'b'],
  ['bucket_id', 'bucket(8,id)', 'id'],
  ['bucket_i', 'bucket(8,i)', 'i'],
  ['bucket_s', 'bucket(8,s)', 's'],
  ['bucket_u', 'bucket(8,u)', 'u'],
  ['bucket_dec', 'bucket(8,dec)', 'dec'],
  ['bucket_d', 'bucket(8,d)', 'd'],
  ['bucket_ts', 'bucket(8,ts)', 'ts'],
  ['truncate_s', 'truncate(3,s)', 's'],
  ['truncate_i', 'truncate(10,i)', 'i'],
  ['truncate_id', 'truncate(100,id)', 'id'],
  ['truncate_dec', 'truncate(100,dec)', 'dec'],
  ['year_ts', 'year(ts)', 'ts'],
  ['month_tstz', 'month(tstz)', 'tstz'],
  ['day_d', 'day(d)', 'd'],
  ['hour_tstz', 'hour(tstz)', 'tstz'],
  ['void_s', 'void(s)', 's'],
];

/**
 * Reader bugs reproduced on tables written by pyiceberg itself (same data, same spec), so
 * they are not floe's: DuckDB 1.5.5 prunes every file for `uuid = …` on a bucket(uuid)
 * table, and fails with "Information loss on integer cast" on negative decimal partition
 * values. Full scans by DuckDB are still compared for these tables.
 */
const KNOWN_LOOKUP_BUGS: Record<string, readonly string[]> = {
  bucket_u: ['duckdb'],
  truncate_dec: ['duckdb'],
};

/**
 * Found by Trino: truncate(100, dec) of decimal(9,2) -9999999.99 is -10000000.00, one digit more
 * than the partition field's type holds; Trino 476 then fails every scan of the table ("decimal
 * precision larger than column precision"). Iceberg Java and pyiceberg refuse to write it, and so
 * does floe now (issue 8 defect 3): rows with that value are refused, the rest is read by all.
 */
const WIDER_THAN_COLUMN: Record<string, (row: Record<string, unknown>) => boolean> = {
  truncate_dec: (row) => row.dec === '-9999999.99',
};

/** truncate(W) of an int/long extreme overflows; Java wraps (and floe with it), pyiceberg
 * computes an out-of-range value, so lookups avoid the extremes (spec leaves this open). */
const EXTREMES = new Set(['-2147483648', '2147483647', '-9223372036854775808', '9223372036854775807']);

describe('partition transforms read back by every reader', { skip }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let schema: Schema;
  const expected = new Map<string, Record<string, unknown>[]>();

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    schema = schemaFromJson(SCHEMA_JSON, { assignIds: true });
    await wh.catalog.createNamespace(['parts']);
    for (const [name, expr] of CASES) {
      const id = { namespace: ['parts'], name };
      await wh.catalog.createTable(id, { schema, spec: parsePartitionExpression(expr, schema) });
      const generated = [...generateRows(schema, 120, 7, 0), ...generateRows(schema, 120, 8, 1000)];
      const refused = WIDER_THAN_COLUMN[name];
      const rows = refused ? generated.filter((r) => !refused(r.input as Record<string, unknown>)) : generated;
      if (refused) {
        const bad = generated.filter((r) => refused(r.input as Record<string, unknown>));
        assert.ok(bad.length > 0, `the data for ${name} holds a value whose partition value is wider than its column`);
        await assert.rejects(appendRecords(wh.catalog, id, bad.map((r) => r.input)), (err: Error) => err instanceof RecordValidationError && /does not fit its type decimal\(9,2\)/.test(err.message));
      }
      await appendRecords(wh.catalog, id, rows.slice(0, 120).map((r) => r.input));
      await appendRecords(wh.catalog, id, rows.slice(120).map((r) => r.input));
      expected.set(name, canonicalRows(schema, rows.map((r) => r.values)));
    }
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  for (const [name, expr, column] of CASES) {
    test(`${expr}: full scans and point lookups on '${column}' agree in all readers`, async () => {
      const all = expected.get(name)!;
      const table = `parts.${name}`;
      const pick = rng(name.length * 31);
      const lookups = [0, 1, 2].map(() => all[Math.floor(pick() * all.length)]![column])
        .filter((v) => v !== null && !(name.startsWith('truncate') && EXTREMES.has(String(v))));
      for (const reader of ALL_READERS) {
        const full = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table });
        assert.deepStrictEqual(normalizeRows(schema, full.rows), all, `${reader} full scan of ${table}`);
        if (KNOWN_LOOKUP_BUGS[name]?.includes(reader)) continue;
        for (const value of lookups) {
          const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table, filter: { column, op: '==', value } });
          const want = all.filter((r) => JSON.stringify(r[column]) === JSON.stringify(value));
          assert.ok(want.length > 0);
          assert.deepStrictEqual(normalizeRows(schema, res.rows), want, `${reader}: ${column} == ${JSON.stringify(value)} in ${table}`);
        }
      }
    });
  }
});
