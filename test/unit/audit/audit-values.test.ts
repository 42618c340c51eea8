// Values in audit samples are exact: random rows of every Iceberg primitive type (long
// beyond 2^53, decimal(38,10), timestamps with and without zone to the microsecond, dates
// before 1970, time, uuid, binary, fixed, float/double edge values) come back from DuckDB as
// the JSON the writer was given (bigint/decimal as strings, ISO timestamps, base64 bytes).
// Also: renamed and added columns are read by field id.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAuditChecks } from '../../../src/audit/audit-checks.ts';
import { runAudit } from '../../../src/audit/run-audit.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { testWarehouse } from '../../support/warehouse.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';

const ID: TableIdentifier = { namespace: ['db'], name: 'types' };
const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { id: 1, name: 'k', required: true, type: 'int' },
    { id: 2, name: 'l', required: false, type: 'long' },
    { id: 3, name: 'b', required: false, type: 'boolean' },
    { id: 4, name: 'f', required: false, type: 'float' },
    { id: 5, name: 'd', required: false, type: 'double' },
    { id: 6, name: 'dec', required: false, type: 'decimal(38,10)' },
    { id: 7, name: 'dt', required: false, type: 'date' },
    { id: 8, name: 't', required: false, type: 'time' },
    { id: 9, name: 'ts', required: false, type: 'timestamp' },
    { id: 10, name: 'tstz', required: false, type: 'timestamptz' },
    { id: 11, name: 's', required: false, type: 'string' },
    { id: 12, name: 'u', required: false, type: 'uuid' },
    { id: 13, name: 'bin', required: false, type: 'binary' },
    { id: 14, name: 'fx', required: false, type: 'fixed[4]' },
  ],
});

const two = (n: number): string => String(n).padStart(2, '0');
const MICROS = fc.integer({ min: 0, max: 999_999 }).map((n) => String(n).padStart(6, '0'));
const isoDate = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const timeOfDay = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), MICROS)
  .map(([h, m, s, us]) => `${two(h)}:${two(m)}:${two(s)}.${us}`);
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
const decimal = fc.tuple(fc.bigInt({ min: -(10n ** 28n) + 1n, max: 10n ** 28n - 1n }), fc.bigInt({ min: 0n, max: 10n ** 10n - 1n }))
  .map(([i, f]) => `${i < 0n ? '-' : ''}${i < 0n ? -i : i}.${f.toString().padStart(10, '0')}`);
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 5 });

const row = fc.record({
  l: nullable(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String)),
  b: nullable(fc.boolean()),
  f: nullable(fc.float({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : Math.fround(x)))),
  d: nullable(fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x))),
  dec: nullable(decimal),
  dt: nullable(isoDate),
  t: nullable(timeOfDay),
  ts: nullable(fc.tuple(isoDate, timeOfDay).map(([d, t]) => `${d}T${t}`)),
  tstz: nullable(fc.tuple(isoDate, timeOfDay).map(([d, t]) => `${d}T${t}Z`)),
  s: nullable(fc.string({ unit: 'binary', maxLength: 12 })),
  u: nullable(fc.uuid()),
  bin: nullable(bytes(0, 9)),
  fx: nullable(bytes(4, 4)),
});

describe('audit sample values are exact for every primitive type', () => {
  test('random rows survive the DuckDB round trip', async () => {
    const wh = await testWarehouse('floe-audit-values-');
    try {
      await wh.catalog.createNamespace(['db']);
      await wh.catalog.createTable(ID, { schema: SCHEMA });
      const checks = await parseAuditChecks({ checks: [{ type: 'sql', name: 'all', sql: 'SELECT * FROM rows ORDER BY k' }] }, 'inline');
      let k = 0;
      await fc.assert(fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 5 }), async (rows) => {
        const branch = `b${k}`;
        const records = rows.map((r) => ({ k: k++, ...r }));
        await appendRecords(wh.catalog, ID, records, { branch });
        const report = await runAudit(wh.catalog, ID, { branch, checks });
        const expected = records.map((r) => ({ ...r, k: r.k, u: r.u?.toLowerCase() ?? null, tstz: r.tstz === null ? null : r.tstz }));
        assert.deepEqual(report.checks[0]!.samples, expected, JSON.stringify(report.checks[0]!.samples));
      }), { numRuns: 25 });
    } finally {
      await wh.cleanup();
    }
  });

  test('columns are read by field id: a renamed column keeps its values, an added one reads null', async () => {
    const wh = await testWarehouse('floe-audit-evolve-');
    try {
      await wh.catalog.createNamespace(['db']);
      const id: TableIdentifier = { namespace: ['db'], name: 'evolve' };
      await wh.catalog.createTable(id, { schema: schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'a', required: true, type: 'int' }, { id: 2, name: 'x', required: false, type: 'string' }] }) });
      await appendRecords(wh.catalog, id, [{ a: 1, x: 'one' }], { branch: 'audit' });
      const evolved = schemaFromJson({ type: 'struct', 'schema-id': 1, fields: [
        { id: 1, name: 'a', required: true, type: 'long' },
        { id: 2, name: 'renamed', required: false, type: 'string' },
        { id: 3, name: 'added', required: false, type: 'string' },
      ] } as never, { schemaId: 1 });
      await wh.catalog.commitTable(id, [], [{ action: 'add-schema', schema: evolved, lastColumnId: 3 }, { action: 'set-current-schema', schemaId: 1 }]);
      const checks = await parseAuditChecks({ checks: [{ type: 'sql', name: 'all', sql: 'SELECT * FROM rows' }, { type: 'not_null', column: 'added' }] }, 'inline');
      const r = await runAudit(wh.catalog, id, { branch: 'audit', checks });
      assert.deepEqual(r.checks[0]!.samples, [{ a: '1', renamed: 'one', added: null }]);
      assert.equal(r.checks[1]!.failing, 1);
    } finally {
      await wh.cleanup();
    }
  });
  test('struct, list and map columns: exposed as DuckDB nested values, samples exact', async () => {
    const wh = await testWarehouse('floe-audit-nested-');
    try {
      await wh.catalog.createNamespace(['db']);
      const id: TableIdentifier = { namespace: ['db'], name: 'nested' };
      await wh.catalog.createTable(id, { schema: schemaFromJson({ type: 'struct', fields: [
        { name: 'id', required: true, type: 'long' },
        { name: 'loc', required: false, type: { type: 'struct', fields: [{ name: 'lat', required: false, type: 'double' }, { name: 'big', required: false, type: 'long' }] } },
        { name: 'tags', required: false, type: { type: 'list', 'element-required': false, element: 'string' } },
        { name: 'attrs', required: false, type: { type: 'map', key: 'string', 'value-required': false, value: 'long' } },
      ] }, { assignIds: true }) });
      await appendRecords(wh.catalog, id, [
        { id: 1, loc: { lat: 1.5, big: '9007199254740993' }, tags: ['a', null], attrs: { x: 1 } },
        { id: 2, loc: null, tags: null, attrs: null },
      ], { branch: 'b' });
      const checks = await parseAuditChecks({ checks: [
        { type: 'sql', name: 'all', sql: 'SELECT * FROM rows ORDER BY id' },
        { type: 'not_null', column: 'loc' },
        { type: 'sql', name: 'lat', sql: 'SELECT id FROM rows WHERE loc.lat > 1 AND list_contains(tags, \'a\') AND attrs[\'x\'] = 1' },
      ] }, 'inline');
      const r = await runAudit(wh.catalog, id, { branch: 'b', checks });
      assert.deepEqual(r.checks[0]!.samples, [
        { id: '1', loc: { lat: 1.5, big: '9007199254740993' }, tags: ['a', null], attrs: [{ key: 'x', value: '1' }] },
        { id: '2', loc: null, tags: null, attrs: null },
      ]);
      assert.deepEqual(r.checks.slice(1).map((c) => c.failing), [1, 1]);
    } finally {
      await wh.cleanup();
    }
  });
});
