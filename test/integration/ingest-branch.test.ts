// `floe ingest` honours a route's `branch`: records land on that branch (forked from main's head
// when it does not exist yet), main is untouched, a rerun resumes from the position recorded in
// the branch's history, and a route naming a tag is refused before anything is written.
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseIngestConfig } from '../../src/ingest/ingest-config.ts';
import { startIngest } from '../../src/ingest/ingest-runner.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { createTag } from '../../src/transaction/manage-refs.ts';
import { readTableRows } from '../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }] }, { assignIds: true });
const ID = { namespace: ['ing'], name: 'events' };

describe('ingest to a branch', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['ing']);
    await wh.catalog.createTable(ID, { schema: SCHEMA });
    await appendRecords(wh.catalog, ID, [{ id: 1 }, { id: 2 }]);
  });
  afterEach(async () => { await wh.cleanup(); });

  const config = (file: string, branch: string) => parseIngestConfig(JSON.stringify({
    source: { type: 'ndjson', path: file },
    routes: [{ table: 'ing.events', branch }],
    batch: { maxRecords: 100, windowMs: 60_000 },
  }), 'test.json');
  const ids = async (ref: string) => (await readTableRows(wh.catalog, ID, ref)).map((r) => Number(r.id)).sort((a, b) => a - b);

  test('records go to the branch only; a rerun resumes from the branch\'s recorded position', { timeout: 60_000 }, async () => {
    const file = path.join(wh.dir, 'in.ndjson');
    writeFileSync(file, '{"id": 10}\n{"id": 11}\n');
    const mainHead = (await wh.catalog.loadTable(ID)).metadata.refs.main!.snapshotId;
    await (await startIngest(wh.catalog, config(file, 'staging'), { logStream: new PassThrough() })).done;
    assert.deepEqual(await ids('staging'), [1, 2, 10, 11]);
    assert.deepEqual(await ids('main'), [1, 2]);
    assert.equal((await wh.catalog.loadTable(ID)).metadata.refs.main!.snapshotId, mainHead);

    appendFileSync(file, '{"id": 12}\n');
    await (await startIngest(wh.catalog, config(file, 'staging'), { logStream: new PassThrough() })).done;
    assert.deepEqual(await ids('staging'), [1, 2, 10, 11, 12], 'only the new line was added');
    assert.deepEqual(await ids('main'), [1, 2]);

    // The same file into main starts from its beginning: main's history records nothing of it.
    await (await startIngest(wh.catalog, config(file, 'main'), { logStream: new PassThrough() })).done;
    assert.deepEqual(await ids('main'), [1, 2, 10, 11, 12]);
  });

  test('a route naming a tag is refused, nothing committed', { timeout: 60_000 }, async () => {
    await createTag(wh.catalog, ID, 'v1');
    const before = (await wh.catalog.loadTable(ID)).metadataLocation;
    const file = path.join(wh.dir, 'in.ndjson');
    writeFileSync(file, '{"id": 10}\n');
    await assert.rejects(async () => (await startIngest(wh.catalog, config(file, 'v1'), { logStream: new PassThrough() })).done, /'v1' is a tag, not a branch/);
    assert.equal((await wh.catalog.loadTable(ID)).metadataLocation, before);
  });
});
