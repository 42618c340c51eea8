// Stream schema evolution (opt-in): unknown fields become optional columns and int/float
// columns are promoted to long/double; files written before and after the change are read
// back by pyiceberg, DuckDB, Spark and Trino with every value.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { evolveFields } from '../../src/ingest/schema-evolution.ts';
import { parseIngestConfig } from '../../src/ingest/ingest-config.ts';
import { startIngest } from '../../src/ingest/ingest-runner.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { currentSchema } from '../../src/spec/table-metadata.ts';
import { typeToString } from '../../src/spec/types.ts';
import { ALL_READERS, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'n', required: false, type: 'int' },
  { name: 'f', required: false, type: 'float' },
] }, { assignIds: true });

test('evolveFields: adds, promotes, ignores what it cannot infer', () => {
  const r = evolveFields(SCHEMA, 3, [{ id: 1, n: 2 ** 40, f: 0.1, s: 'x', b: true, obj: { a: 1 }, 'bad name': 1 }]);
  assert.ok(r);
  assert.deepStrictEqual(r.changes, ['promoted n int→long', 'promoted f float→double', 'added s string', 'added b boolean']);
  assert.deepStrictEqual(r.fields.map((f) => [f.id, f.name, typeToString(f.type), f.required]), [
    [1, 'id', 'long', true], [2, 'n', 'long', false], [3, 'f', 'double', false], [4, 's', 'string', false], [5, 'b', 'boolean', false],
  ]);
  assert.equal(evolveFields(SCHEMA, 3, [{ id: 1, n: 5, f: 0.5 }]), undefined);
});

const skip = readersUnavailable();

describe('evolved tables read by every reader', { skip }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['evo']);
    await wh.catalog.createTable({ namespace: ['evo'], name: 't' }, { schema: SCHEMA });
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('old and new files, promoted and added columns', async () => {
    const lines = [
      { id: 1, n: 7, f: 0.5 },
      { id: 2, n: -3, f: 1.25 },
      ...Array.from({ length: 3 }, () => null), // batch boundary (maxRecords 2)
      { id: 3, n: 2 ** 40, f: 2.5, s: 'new', b: true },
      { id: 4, n: 1, f: 1e300, s: null, b: false },
    ].filter((l) => l !== null);
    const file = path.join(wh.dir, 'evo.ndjson');
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const cfg = parseIngestConfig(JSON.stringify({ source: { type: 'ndjson', path: file }, routes: [{ table: 'evo.t', evolveSchema: true }], batch: { maxRecords: 2 } }), 'evo.json');
    const run = await startIngest(wh.catalog, cfg, { logStream: new PassThrough() });
    await run.done;
    const t = await wh.catalog.loadTable({ namespace: ['evo'], name: 't' });
    assert.equal(t.metadata.snapshots.length, 2);
    assert.deepStrictEqual(currentSchema(t.metadata).fields.map((f) => `${f.name}:${typeToString(f.type)}`), ['id:long', 'n:long', 'f:double', 's:string', 'b:boolean']);
    const expected = [
      { id: '1', n: '7', f: 0.5, s: null, b: null },
      { id: '2', n: '-3', f: 1.25, s: null, b: null },
      { id: '3', n: String(2 ** 40), f: 2.5, s: 'new', b: true },
      { id: '4', n: '1', f: 1e300, s: null, b: false },
    ];
    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'evo.t' });
      const rows = [...res.rows].sort((a, b) => Number(a.id) - Number(b.id));
      assert.deepStrictEqual(rows, expected, reader);
    }
  });
});
