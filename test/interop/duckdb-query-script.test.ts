// scripts/duckdb_query.py — the README's and `floe demo`'s way to read a table through DuckDB —
// on a table with a timestamptz column: DuckDB's Python client returns such values through
// pytz, which the venv lacked (every query touching the column crashed with
// "Required module 'pytz' failed to import"). scripts/setup-readers.sh now installs it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { readersUnavailable, REPO_ROOT, VENV_PYTHON } from '../support/readers.ts';
import { testWarehouse } from '../support/warehouse.ts';

const skip = readersUnavailable();

describe('scripts/duckdb_query.py', { skip }, () => {
  test('reads a timestamptz column (values in UTC) next to timestamp and date columns', async () => {
    const wh = await testWarehouse('floe-duckdb-query-');
    try {
      const id = { namespace: ['db'], name: 'events' };
      await wh.catalog.createNamespace(['db']);
      await wh.catalog.createTable(id, {
        schema: schemaFromJson({
          type: 'struct',
          fields: [
            { name: 'id', required: true, type: 'long' },
            { name: 'ts', required: false, type: 'timestamptz' },
            { name: 'local_ts', required: false, type: 'timestamp' },
            { name: 'day', required: false, type: 'date' },
          ],
        }, { assignIds: true }),
      });
      await appendRecords(wh.catalog, id, [
        { id: 1, ts: '2026-03-01T10:15:00+02:00', local_ts: '2026-03-01T10:15:00', day: '2026-03-01' },
        { id: 2, ts: '2026-03-02T23:59:59.123456Z', local_ts: null, day: null },
        { id: 3, ts: null, local_ts: '2026-03-03T00:00:00', day: '2026-03-03' },
      ]);
      const { metadataLocation } = await wh.catalog.loadTable(id);
      const sql = `SELECT id, ts, local_ts, day FROM iceberg_scan('${metadataLocation}') ORDER BY id`;
      const r = spawnSync(VENV_PYTHON, [path.join(REPO_ROOT, 'scripts/duckdb_query.py'), sql], { encoding: 'utf8' });
      assert.equal(r.status, 0, `duckdb_query.py failed: ${r.stderr}`);
      assert.equal(r.stderr, '');
      assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => l.trim().split(/ {2,}/)), [
        ['id', 'ts', 'local_ts', 'day'],
        ['1', '2026-03-01 08:15:00+00:00', '2026-03-01 10:15:00', '2026-03-01'],
        ['2', '2026-03-02 23:59:59.123456+00:00', 'NULL', 'NULL'],
        ['3', 'NULL', '2026-03-03 00:00:00', '2026-03-03'],
      ]);
    } finally {
      await wh.cleanup();
    }
  });
});
