// `floe append` and NDJSON `floe ingest` SIGKILLed at every named phase (src/fault-points.ts):
// before the catalog swap nothing of the batch is visible (orphan files allowed), the table is
// consistent, floe, pyiceberg and DuckDB agree, and a rerun adds the batch exactly once.
// After the swap the whole batch is visible, and a rerun adds nothing twice: file sources record
// their position in the snapshot summary (src/ingest/file-source.ts), as Kafka sources do.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { assertTableHolds, ndjson, rowsFor, type Row } from '../support/crash-checks.ts';
import { describeRun, runFloe } from '../support/crash-run.ts';
import { readTableRows } from '../support/read-table.ts';
import { ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
] }, { assignIds: true });

const PRE_SWAP = ['append.after-data-files', 'append.after-manifest', 'append.after-manifest-list', 'commit.after-metadata-file'] as const;

describe('crash during floe append and NDJSON floe ingest', () => {
  let wh: TestWarehouse;
  let readers: ReaderServer | undefined;
  let n = 0;
  before(async () => {
    wh = await testWarehouse('floe-crash-append-');
    await wh.catalog.createNamespace(['crash']);
    if (!readersUnavailable()) readers = new ReaderServer();
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  /** A fresh table holding `base` (one earlier commit), and the NDJSON file of the next batch. */
  async function setup(base: readonly Row[], batch: readonly Row[]): Promise<{ id: TableIdentifier; name: string; file: string }> {
    const id = { namespace: ['crash'], name: `t${++n}` };
    await wh.catalog.createTable(id, { schema: SCHEMA });
    await appendRecords(wh.catalog, id, base.map((r) => ({ ...r })));
    const file = path.join(wh.dir, `${id.name}.ndjson`);
    writeFileSync(file, ndjson(batch));
    return { id, name: `crash.${id.name}`, file };
  }

  const headOf = async (id: TableIdentifier): Promise<bigint | undefined> => branchHead((await wh.catalog.loadTable(id)).metadata, 'main')?.snapshotId;

  for (const phase of PRE_SWAP) {
    test(`floe append killed at ${phase}: nothing visible; rerun appends the batch once`, async () => {
      const base = rowsFor(0, 50);
      const batch = rowsFor(1000, 120);
      const { id, name, file } = await setup(base, batch);
      const before = await headOf(id);
      const crashed = await runFloe(wh.dir, ['append', name, file], { faultAt: phase });
      assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
      assert.equal(await headOf(id), before, 'no new snapshot after a crash before the swap');
      await assertTableHolds(wh, id, base, readers, `after crash at ${phase}`);
      const rerun = await runFloe(wh.dir, ['append', name, file]);
      assert.equal(rerun.code, 0, describeRun(rerun));
      await assertTableHolds(wh, id, [...base, ...batch], readers, `after rerun (${phase})`);
    });
  }

  test('floe append killed at commit.after-catalog-swap: the whole batch visible; rerun adds nothing', async () => {
    const base = rowsFor(0, 50);
    const batch = rowsFor(1000, 120);
    const { id, name, file } = await setup(base, batch);
    const crashed = await runFloe(wh.dir, ['append', name, file], { faultAt: 'commit.after-catalog-swap' });
    assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
    await assertTableHolds(wh, id, [...base, ...batch], readers, 'after crash at commit.after-catalog-swap');
    const rerun = await runFloe(wh.dir, ['append', name, file]);
    assert.equal(rerun.code, 0, describeRun(rerun));
    await assertTableHolds(wh, id, [...base, ...batch], readers, 'after rerun (commit.after-catalog-swap)');
  });

  /** An NDJSON pipeline committing every 40 records. */
  function ingestConfig(name: string, file: string): string {
    const cfg = path.join(wh.dir, `${name}.ingest.json`);
    writeFileSync(cfg, JSON.stringify({ source: { type: 'ndjson', path: file }, routes: [{ table: name }], batch: { maxRecords: 40, windowMs: 60_000 } }));
    return cfg;
  }

  for (const phase of PRE_SWAP) {
    test(`floe ingest (NDJSON) killed at ${phase} of its first batch: nothing visible; rerun ingests every line once`, async () => {
      const base = rowsFor(0, 30);
      const batch = rowsFor(2000, 130);
      const { id, name, file } = await setup(base, batch);
      const before = await headOf(id);
      const crashed = await runFloe(wh.dir, ['ingest', '--config', ingestConfig(name, file)], { faultAt: phase });
      assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
      assert.equal(await headOf(id), before, 'no new snapshot after a crash before the first swap');
      await assertTableHolds(wh, id, base, readers, `after crash at ${phase}`);
      const rerun = await runFloe(wh.dir, ['ingest', '--config', ingestConfig(name, file)]);
      assert.equal(rerun.code, 0, describeRun(rerun));
      await assertTableHolds(wh, id, [...base, ...batch], readers, `after rerun (${phase})`);
      // 130 lines in batches of 40: four commits.
      assert.equal((await wh.catalog.loadTable(id)).metadata.snapshots.length, 1 + 4);
    });
  }

  test('floe ingest (NDJSON) with bad lines killed at ingest.after-dead-letters: rerun dead-letters each bad line once', async () => {
    const base = rowsFor(0, 30);
    const lines = rowsFor(4000, 130);
    const bad = new Set(lines.filter((_, i) => i % 20 === 5).map((r) => r.id));
    const { id, name, file } = await setup(base, lines);
    writeFileSync(file, `${lines.map((r) => bad.has(r.id) ? `{"id": ${String(r.id)}, "payload": ` : JSON.stringify({ id: Number(r.id), payload: r.payload })).join('\n')}\n`);
    const dlq = { namespace: ['crash'], name: `${id.name}_dead_letters` };
    const cfg = path.join(wh.dir, `${id.name}.ingest.json`);
    writeFileSync(cfg, JSON.stringify({ source: { type: 'ndjson', path: file }, routes: [{ table: name }], batch: { maxRecords: 40, windowMs: 60_000 }, deadLetter: { table: `crash.${dlq.name}` } }));
    const crashed = await runFloe(wh.dir, ['ingest', '--config', cfg], { faultAt: 'ingest.after-dead-letters' });
    assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
    await assertTableHolds(wh, id, base, readers, 'after crash at ingest.after-dead-letters');
    const rerun = await runFloe(wh.dir, ['ingest', '--config', cfg]);
    assert.equal(rerun.code, 0, describeRun(rerun));
    await assertTableHolds(wh, id, [...base, ...lines.filter((r) => !bad.has(r.id))], readers, 'after rerun');
    const dead = await readTableRows(wh.catalog, dlq);
    assert.equal(dead.length, bad.size, 'each bad line dead-lettered once');
  });

  for (const phase of ['commit.after-catalog-swap', 'append.after-data-files#3'] as const) {
    test(`floe ingest (NDJSON) killed at ${phase} after earlier batches committed: whole batches visible; restart ingests every line once`, async () => {
      const base = rowsFor(0, 30);
      const batch = rowsFor(3000, 130);
      const { id, name, file } = await setup(base, batch);
      const crashed = await runFloe(wh.dir, ['ingest', '--config', ingestConfig(name, file)], { faultAt: phase });
      assert.equal(crashed.signal, 'SIGKILL', describeRun(crashed));
      const visible = Number((await wh.catalog.loadTable(id)).metadata.snapshots.length - 1) * 40;
      await assertTableHolds(wh, id, [...base, ...batch.slice(0, visible)], readers, `after crash at ${phase}`);
      const rerun = await runFloe(wh.dir, ['ingest', '--config', ingestConfig(name, file)]);
      assert.equal(rerun.code, 0, describeRun(rerun));
      await assertTableHolds(wh, id, [...base, ...batch], readers, `after restart (${phase})`);
    });
  }
});
