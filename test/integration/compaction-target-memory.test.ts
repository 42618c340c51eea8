// ~3 GiB of small files compacted by the real `floe compact` process with the default 1 GiB
// target: the outputs are within 10% of 1 GiB, the process's peak RSS stays far below the
// output size (reported), and DuckDB returns the same aggregates over every value before and
// after. The small files are copies of one ~6 MiB file of random text (incompressible, so
// bytes on disk are real work), committed in ten appends like micro-batches.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { EntryStatus } from '../../src/spec/data-file.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { commitWithRetry } from '../../src/transaction/commit-with-retry.ts';
import { FastAppend } from '../../src/transaction/fast-append.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { ReaderServer, REPO_ROOT, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const GiB = 1024 ** 3;
const TOTAL_BYTES = Number(process.env.FLOE_COMPACTION_TEST_BYTES ?? 3.1 * GiB);
const ID = { namespace: ['big'], name: 'events' };
const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'payload', required: true, type: 'string' },
    { name: 'score', required: false, type: 'double' },
  ],
}, { assignIds: true });

describe('compaction: ~3 GiB into 1 GiB files with bounded memory', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let copies = 0;
  const aggregate = async (): Promise<Record<string, unknown>> => {
    const t = await wh.catalog.loadTable(ID);
    const rows = await readers.sql('duckdb', `SELECT count(*)::VARCHAR AS n, count(DISTINCT id)::VARCHAR AS ids, sum(length(payload))::VARCHAR AS chars,
      sum(hash(payload) % 1000003)::VARCHAR AS payload_hash, sum(CAST(score * 1000 AS BIGINT))::VARCHAR AS scores, count(score)::VARCHAR AS scored FROM iceberg_scan('${t.metadataLocation}')`);
    return rows[0]!;
  };

  before(async () => {
    wh = await testWarehouse('floe-compact-big-');
    readers = new ReaderServer();
    await wh.catalog.createNamespace(['big']);
    await wh.catalog.createTable(ID, { schema: SCHEMA });
    const records = Array.from({ length: 8000 }, (_, i) => ({ id: i, payload: randomBytes(750).toString('base64'), score: i % 11 === 0 ? null : i / 7 }));
    await appendRecords(wh.catalog, ID, records);
    const t = await wh.catalog.loadTable(ID);
    const [source] = await manifestEntries(wh.catalog.io, (await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main')))[0]!);
    const file = source!.dataFile;
    copies = Math.ceil(TOTAL_BYTES / Number(file.fileSizeInBytes)) - 1;
    const src = uriToPath(file.filePath);
    for (let commit = 0; commit < 10; commit++) {
      const batch = [];
      for (let k = commit; k < copies; k += 10) {
        const p = path.join(path.dirname(src), `copy-${k}.parquet`);
        copyFileSync(src, p);
        batch.push({ ...file, filePath: `file://${p}` });
      }
      await commitWithRetry(wh.catalog, ID, new FastAppend(wh.catalog.io, batch));
    }
  });

  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test('outputs within 10% of 1 GiB, peak RSS far below the output, every value kept', async () => {
    const beforeAgg = await aggregate();
    assert.equal(beforeAgg.n, String((copies + 1) * 8000));
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--warehouse', wh.dir, 'compact', 'big.events', '--json'], { maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { addedFiles: number; rewrittenFiles: number; rewrittenBytes: number; addedBytes: number; durationMs: number; peakRssBytes: number };
    const t = await wh.catalog.loadTable(ID);
    const sizes: number[] = [];
    for (const m of await snapshotManifests(wh.catalog.io, branchHead(t.metadata, 'main'))) {
      for (const e of await manifestEntries(wh.catalog.io, m)) if (e.status !== EntryStatus.Deleted) sizes.push(Number(e.dataFile.fileSizeInBytes));
    }
    const mib = (n: number): string => (n / 1024 ** 2).toFixed(1);
    console.log(`# compacted ${report.rewrittenFiles} files (${mib(report.rewrittenBytes)} MiB) into ${sizes.length}: [${sizes.map(mib).join(', ')}] MiB in ${(report.durationMs / 1000).toFixed(1)} s; peak RSS ${mib(report.peakRssBytes)} MiB`);
    assert.equal(report.rewrittenFiles, copies + 1);
    assert.equal(sizes.length, report.addedFiles);
    assert.ok(sizes.length >= 3, `${sizes.length} output files`);
    for (const s of sizes) assert.ok(Math.abs(s - GiB) <= 0.1 * GiB, `output of ${mib(s)} MiB is within 10% of 1 GiB`);
    assert.ok(report.peakRssBytes < 640 * 1024 ** 2, `peak RSS ${mib(report.peakRssBytes)} MiB stays far below one 1 GiB output`);
    assert.deepStrictEqual(await aggregate(), beforeAgg, 'DuckDB reads the same values after compaction');
  });
});
