// A partial-progress compaction whose second group cannot be read: the first group's commit
// stays, and the error says it landed (it used to read as if the table were untouched); the
// unreadable file is named and nothing of the failed group is left behind. A maintenance
// step failing after a finished compaction is logged as such, not as a failed compaction.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { compactTable } from '../../compaction/compact-table.ts';
import { startCompaction } from '../../compaction/compaction-service.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { testWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 'region', required: true, type: 'string' }] }, { assignIds: true });
const ID = { namespace: ['c'], name: 't' };

test('partial progress: a failure after a commit says how much landed; the bad file is named; no output of the failed group stays', async () => {
  const wh = await testWarehouse();
  try {
    await wh.catalog.createNamespace(['c']);
    const location = (await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region', SCHEMA) })).metadata.location;
    for (let i = 0; i < 5; i++) await appendRecords(wh.catalog, ID, [{ id: i, region: 'eu' }, { id: 100 + i, region: 'us' }]);
    const plan = (await compactTable(wh.catalog, ID, { dryRun: true, minInputFiles: 2 })).plan;
    assert.equal(plan.groups.length, 2);
    const bad = plan.groups[1]!.files[2]!.path;
    await writeFile(uriToPath(bad), 'PAR1 this is not a parquet file PAR1');
    const otherDir = path.dirname(uriToPath(plan.groups[1]!.files[0]!.path));
    const before = readdirSync(otherDir).sort();
    const snapshotsBefore = (await wh.catalog.loadTable(ID)).metadata.snapshots.length;

    await assert.rejects(compactTable(wh.catalog, ID, { partialProgress: true, partialProgressMaxCommits: 10, minInputFiles: 2 }), (err: Error) => {
      assert.ok(err.message.includes(bad), err.message);
      assert.match(err.message, /before this, 1 commit\(s\) had landed: 1 group\(s\), 5 file\(s\) replaced by 1\)$/);
      return true;
    });
    const after = (await wh.catalog.loadTable(ID)).metadata;
    assert.equal(after.snapshots.length, snapshotsBefore + 1);
    assert.equal(after.snapshots.at(-1)!.summary.operation, 'replace');
    assert.deepEqual(readdirSync(otherDir).sort(), before);
    assert.ok(location);
  } finally {
    await wh.cleanup();
  }
});

test('a maintenance step that fails after a compaction: the compaction is reported done, the failure as maintenance, naming the file', async () => {
  const wh = await testWarehouse();
  try {
    await wh.catalog.createNamespace(['c']);
    await wh.catalog.createTable(ID, { schema: SCHEMA });
    for (let i = 0; i < 5; i++) await appendRecords(wh.catalog, ID, [{ id: i, region: 'eu' }]);
    // Only expiry reads an old snapshot's manifest list; compaction reads the head's.
    const list = (await wh.catalog.loadTable(ID)).metadata.snapshots[0]!.manifestList;
    await writeFile(uriToPath(list), 'Obj\x01');
    const logs: { msg: string; err?: string }[] = [];
    const logStream = { write: (line: string): boolean => { logs.push(JSON.parse(line) as { msg: string }); return true; } } as unknown as NodeJS.WritableStream;
    const out: string[] = [];
    const service = await startCompaction(wh.catalog, { tables: [ID], progress: false, expire: { olderThanMs: 0, retainLast: 1 } }, (l) => out.push(l), logStream);
    await assert.rejects(service.done, (err: Error) => err.message.includes(list));
    assert.match(out.join('\n'), /^c\.t: compacted 5 files/);
    assert.deepEqual(logs.filter((l) => /failed/.test(l.msg)).map((l) => l.msg), ['maintenance failed']);
    assert.ok(logs.some((l) => l.msg === 'compaction done'));
  } finally {
    await wh.cleanup();
  }
});
