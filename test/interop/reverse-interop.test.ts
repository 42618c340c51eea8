// Reverse interop: a table created and appended by pyiceberg (its manifests, its metadata,
// its catalog row), then appended by floe, is read by every reader (Trino too) with every row.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { currentSchema } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, REPO_ROOT, ReaderServer, VENV_PYTHON, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = readersUnavailable();

describe('pyiceberg creates, floe appends', { skip }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let written: Record<string, unknown>[];

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    const res = spawnSync(VENV_PYTHON, [path.join(REPO_ROOT, 'test/interop/readers/make_pyiceberg_table.py'),
      '--warehouse', wh.dir, '--catalog-db', wh.catalogDb, '--catalog-name', 'floe', '--table', 'py.events', '--rows', '40'], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    written = JSON.parse(res.stdout) as Record<string, unknown>[];
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('floe appends to the pyiceberg table and every reader sees both writers\' rows', async () => {
    const id = { namespace: ['py'], name: 'events' };
    const before = await wh.catalog.loadTable(id);
    const schema = currentSchema(before.metadata);
    const floeRows = Array.from({ length: 30 }, (_, i) => ({
      id: 10_000 + i, name: `floe-${i}`, ts: `2024-03-0${1 + (i % 3)}T0${i % 10}:15:00.123456Z`,
      amount: `${i}.5`, day: `2024-03-0${1 + (i % 3)}`,
    }));
    const r = await appendRecords(wh.catalog, id, floeRows);
    assert.equal(r.snapshot.parentSnapshotId, before.metadata.currentSnapshotId);
    const expectedFloe = canonicalRows(schema, floeRows.map((x) => ({
      id: BigInt(x.id), name: x.name, day: (Date.parse(`${x.day}T00:00:00Z`) / 86_400_000),
      ts: BigInt(Date.parse(x.ts.replace(/\.\d+Z$/, 'Z'))) * 1000n + 123456n,
      amount: BigInt(x.amount.replace('.', '')) * 10n,
    })));
    const expected = normalizeRows(schema, [...written, ...expectedFloe]);
    assert.equal(expected.length, written.length + 30);
    for (const reader of ALL_READERS) {
      const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'py.events' });
      assert.deepStrictEqual(normalizeRows(schema, res.rows), expected, reader);
    }
  });
});
