// Compaction under a file-size limit (`ulimit -f`, EFBIG): the real floe binary in a bash
// subprocess must report the write error itself — not "not a Parquet file" about its own
// truncated output — commit nothing, and leave no partial .parquet behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { uriToPath } from '../../src/io/local-file-io.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { testWarehouse } from '../support/warehouse.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 's', required: true, type: 'string' }] }, { assignIds: true });
const ID = { namespace: ['db'], name: 't' };

test('compact under ulimit -f: the EFBIG error is reported, nothing is committed, no partial file stays', async () => {
  const wh = await testWarehouse();
  try {
    await wh.catalog.createNamespace(['db']);
    const location = (await wh.catalog.createTable(ID, { schema: SCHEMA })).metadata.location;
    // Incompressible strings: six ~100 KB files that compact into one ~600 KB file.
    for (let f = 0; f < 6; f++) {
      await appendRecords(wh.catalog, ID, Array.from({ length: 3000 }, (_, i) => ({ id: f * 10_000 + i, s: randomBytes(30).toString('base64') })));
    }
    const dataDir = path.join(uriToPath(location), 'data');
    const before = readdirSync(dataDir).sort();
    const metadataBefore = (await wh.catalog.loadTable(ID)).metadataLocation;
    // 300 KiB: the inputs fit, the compacted output does not.
    const r = spawnSync('bash', ['-c', 'ulimit -f 300 && exec node bin/floe.js --warehouse "$1" compact db.t', 'bash', wh.dir], {
      cwd: REPO, encoding: 'utf8', env: { ...process.env, FLOE_CATALOG: '', FLOE_WAREHOUSE: '' },
    });
    assert.equal(r.status, 1, r.stderr);
    const last = r.stderr.trim().split('\n').at(-1)!;
    assert.match(last, /^floe: cannot write file:\/\/.*\/data\/[^ ]+\.parquet: EFBIG/);
    assert.doesNotMatch(r.stderr, /not a Parquet file/);
    assert.deepEqual(readdirSync(dataDir).sort(), before);
    assert.equal((await wh.catalog.loadTable(ID)).metadataLocation, metadataBefore);
  } finally {
    await wh.cleanup();
  }
});
