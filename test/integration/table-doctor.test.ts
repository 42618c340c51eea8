// floe doctor on real tables: healthy after appends, compaction and expiry (exit 0, deep too);
// each corruption — missing data file, truncated manifest, size mismatch, a manifest lying about
// a record count or a partition value, broken lineage — is found by its check, which names the
// file (exit 1); a table that cannot be loaded exits 2.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { main } from '../../bin/floe-main.ts';
import { compactTable } from '../../compaction/compact-table.ts';
import { expireSnapshots } from '../../compaction/expire-snapshots.ts';
import { runTableDoctor, type DoctorReport } from '../../compaction/table-doctor.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
import { EntryStatus, type DataFile } from '../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { currentSchema, defaultSpec } from '../../src/spec/table-metadata.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { commitWithRetry } from '../../src/transaction/commit-with-retry.ts';
import { FastAppend } from '../../src/transaction/fast-append.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { DataFileWriter } from '../../src/writer/data-file-writer.ts';
import { insertTableAt } from '../support/legacy-nested-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'region', required: true, type: 'string' },
  { name: 'ts', required: true, type: 'timestamptz' },
] }, { assignIds: true });
const ID = { namespace: ['d'], name: 't' };

function records(from: number, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: from + i, region: ['eu', 'us'][(from + i) % 2], ts: `2026-01-0${1 + ((from + i) % 3)}T10:00:00Z`,
  }));
}

function check(r: DoctorReport, name: string) {
  const c = r.checks.find((x) => x.name === name);
  assert.ok(c, `no check ${name}`);
  return c;
}

function assertOnlyFailure(r: DoctorReport, name: string, first: string): void {
  assert.equal(r.healthy, false);
  const c = check(r, name);
  assert.equal(c.status, 'fail', JSON.stringify(r.checks));
  assert.equal(c.first, first);
}

/** Runs the CLI; returns exit code and stdout. */
async function cli(wh: TestWarehouse, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await mainWith(['--warehouse', wh.dir, ...args], out, err);
  return { code, out, err };
}

async function mainWith(argv: string[], out: string[], err: string[]): Promise<number> {
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => { out.push(...String(s).split('\n').filter(Boolean)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err.push(...String(s).split('\n').filter(Boolean)); return true; }) as typeof process.stderr.write;
  try {
    return await main(argv);
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }
}

/** Writes real files for `recs` and commits them with `lie` applied to their manifest entries. */
async function appendLying(wh: TestWarehouse, recs: unknown[], lie: (f: DataFile) => DataFile): Promise<string> {
  const base = await wh.catalog.loadTable(ID);
  const meta = base.metadata;
  const files = await new DataFileWriter({ schema: currentSchema(meta), spec: defaultSpec(meta), properties: meta.properties, location: meta.location, io: wh.catalog.io }).write(recs);
  await commitWithRetry(wh.catalog, ID, new FastAppend(wh.catalog.io, files.map(lie), {}), { base });
  return files[0]!.filePath;
}

async function liveDataFiles(wh: TestWarehouse): Promise<DataFile[]> {
  const t = await wh.catalog.loadTable(ID);
  const current = t.metadata.snapshots.find((s) => s.snapshotId === t.metadata.currentSnapshotId);
  const out: DataFile[] = [];
  for (const m of await snapshotManifests(wh.catalog.io, current)) {
    for (const e of await manifestEntries(wh.catalog.io, m)) if (e.status !== EntryStatus.Deleted) out.push(e.dataFile);
  }
  return out;
}

describe('floe doctor', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['d']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, spec: parsePartitionExpression('region,day(ts)', SCHEMA) });
    for (let b = 0; b < 3; b++) await appendRecords(wh.catalog, ID, records(b * 30, 30));
  });
  afterEach(async () => { await wh.cleanup(); });

  test('a table after appends, compaction and expiry is healthy (exit 0), deep included', async () => {
    await compactTable(wh.catalog, ID, { targetFileSizeBytes: 64 * 1024 * 1024 });
    await appendRecords(wh.catalog, ID, records(1000, 10));
    await expireSnapshots(wh.catalog, ID, { nowMs: Date.now() + 1000, olderThanMs: 0, retainLast: 2 });
    const r = await runTableDoctor(wh.catalog, ID, { deep: true });
    assert.equal(r.healthy, true, JSON.stringify(r.checks, null, 1));
    assert.ok(check(r, 'record-counts').checked > 0);
    assert.ok(check(r, 'partition-values').checked > 0);
    assert.equal(check(r, 'table-location-overlap').status, 'ok');
    // Expiry removed the compacted-away files; nothing is left unreferenced.
    assert.equal(check(r, 'orphan-files').count, 0);

    const text = await cli(wh, 'doctor', 'd.t', '--deep');
    assert.equal(text.code, 0, text.out.join('\n') + text.err.join('\n'));
    assert.match(text.out[0]!, /^ok files-exist count=0 checked=\d+$/);
    const json = await cli(wh, 'doctor', 'd.t', '--deep', '--json');
    assert.equal(json.code, 0);
    const parsed = JSON.parse(json.out.join('\n')) as DoctorReport;
    assert.equal(parsed.healthy, true);
    // A file nothing references (a crashed writer's leftover) is counted, never a failure.
    const t = await wh.catalog.loadTable(ID);
    const stray = `${t.metadata.location}/data/stray.parquet`;
    writeFileSync(uriToPath(stray), 'x');
    const withStray = await runTableDoctor(wh.catalog, ID);
    assert.equal(withStray.healthy, true);
    assert.deepEqual([check(withStray, 'orphan-files').status, check(withStray, 'orphan-files').count], ['warn', 1]);
    assert.equal(uriToPath(check(withStray, 'orphan-files').first!), uriToPath(stray));
    assert.equal((await cli(wh, 'doctor', 'd.t')).code, 0);
    assert.deepEqual(parsed.checks.map((c) => c.name), ['files-exist', 'file-sizes', 'manifests-decode', 'sequence-numbers', 'snapshot-lineage', 'refs', 'record-counts', 'partition-values', 'orphan-files', 'table-location-overlap']);
  });


  test('a table inside another table\'s folder (made before floe checked locations) fails table-location-overlap, naming it', async () => {
    const outer = await wh.catalog.loadTable(ID);
    await insertTableAt(wh.catalog, wh.catalogDb, { namespace: ['d'], name: 'inner' }, `${outer.metadata.location}/data/inner`, SCHEMA);
    const r = await runTableDoctor(wh.catalog, ID);
    assertOnlyFailure(r, 'table-location-overlap', `d.inner at ${outer.metadata.location.replace(/^file:\/+/, '/')}/data/inner`);
    const text = await cli(wh, 'doctor', 'd.t');
    assert.equal(text.code, 1);
    assert.ok(text.out.some((l) => l.startsWith('FAIL table-location-overlap count=1')), text.out.join('\n'));
  });
  test('a missing data file fails files-exist naming it (exit 1)', async () => {
    const victim = (await liveDataFiles(wh))[1]!.filePath;
    rmSync(uriToPath(victim));
    assertOnlyFailure(await runTableDoctor(wh.catalog, ID), 'files-exist', victim);
    const r = await cli(wh, 'doctor', 'd.t', '--json');
    assert.equal(r.code, 1);
    const parsed = JSON.parse(r.out.join('\n')) as DoctorReport;
    assert.equal(parsed.checks[0]!.first, victim);
  });

  test('a truncated manifest fails manifests-decode and file-sizes', async () => {
    const t = await wh.catalog.loadTable(ID);
    const [manifest] = await snapshotManifests(wh.catalog.io, t.metadata.snapshots.at(-1));
    truncateSync(uriToPath(manifest!.manifestPath), Number(manifest!.manifestLength) - 40);
    const r = await runTableDoctor(wh.catalog, ID);
    assertOnlyFailure(r, 'manifests-decode', manifest!.manifestPath);
    assert.equal(check(r, 'file-sizes').first, manifest!.manifestPath);
    const text = await cli(wh, 'doctor', 'd.t');
    assert.equal(text.code, 1);
    assert.ok(text.out.some((l) => l.startsWith('FAIL manifests-decode count=1') && l.includes(manifest!.manifestPath)), text.out.join('\n'));
  });

  test('a data file whose size differs from its manifest entry fails file-sizes', async () => {
    const victim = (await liveDataFiles(wh))[0]!.filePath;
    appendFileSync(uriToPath(victim), Buffer.from('trailing garbage'));
    const r = await runTableDoctor(wh.catalog, ID);
    assertOnlyFailure(r, 'file-sizes', victim);
    assert.match(check(r, 'file-sizes').detail!, /recorded \d+ bytes, found \d+/);
  });

  test('--deep finds a manifest that lies about a record count', async () => {
    const victim = await appendLying(wh, records(500, 7), (f) => ({ ...f, recordCount: f.recordCount + 1n }));
    assert.equal((await runTableDoctor(wh.catalog, ID)).healthy, true); // only a footer shows it
    const r = await runTableDoctor(wh.catalog, ID, { deep: true });
    assertOnlyFailure(r, 'record-counts', victim);
    const [, said, found] = /manifest says (\d+) records, footer (\d+)/.exec(check(r, 'record-counts').detail!) ?? [];
    assert.equal(Number(said), Number(found) + 1);
  });

  test('--deep finds a partition value outside the footer bounds', async () => {
    const eu = records(600, 6).filter((r) => r.region === 'eu' && r.ts === '2026-01-01T10:00:00Z');
    assert.ok(eu.length > 0);
    const victim = await appendLying(wh, eu, (f) => ({ ...f, partition: ['us', f.partition[1]!] }));
    const r = await runTableDoctor(wh.catalog, ID, { deep: true });
    assertOnlyFailure(r, 'partition-values', victim);
    assert.match(check(r, 'partition-values').detail!, /region=us .*eu\.\.eu/);
    const text = await cli(wh, 'doctor', 'd.t', '--deep');
    assert.equal(text.code, 1);
  });

  test('broken lineage: a snapshot whose parent is a later snapshot fails lineage and sequence checks', async () => {
    const t = await wh.catalog.loadTable(ID);
    const json = JSON.parse(readFileSync(uriToPath(t.metadataLocation), 'utf8').replace(/("(?:snapshot-id|parent-snapshot-id|current-snapshot-id)"\s*:\s*)(\d+)/g, '$1"$2"')) as Record<string, unknown>;
    const snaps = json.snapshots as Record<string, unknown>[];
    snaps[0]!['parent-snapshot-id'] = snaps[2]!['snapshot-id'];
    const text = JSON.stringify(json).replace(/("(?:snapshot-id|parent-snapshot-id|current-snapshot-id)"):"(\d+)"/g, '$1:$2');
    const broken = t.metadataLocation.replace(/\.metadata\.json$/, '-broken.metadata.json');
    writeFileSync(uriToPath(broken), text);
    const brokenId = { namespace: ['d'], name: 'broken' };
    await wh.catalog.dropTable(ID); // its folder now belongs to the registered copy (overlaps are refused)
    await wh.catalog.registerTable(brokenId, broken);
    const r = await runTableDoctor(wh.catalog, brokenId);
    assert.equal(r.healthy, false);
    assert.equal(check(r, 'snapshot-lineage').status, 'fail');
    assert.equal(check(r, 'snapshot-lineage').first, `snapshot ${String(snaps[0]!['snapshot-id'])}`);
    assert.equal(check(r, 'sequence-numbers').status, 'fail');
  });

  test('a table that cannot be loaded exits 2', async () => {
    const r = await cli(wh, 'doctor', 'd.nope');
    assert.equal(r.code, 2);
    assert.ok(r.err.some((l) => l.startsWith('floe: ')), r.err.join('\n'));
  });
});
