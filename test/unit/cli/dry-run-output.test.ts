// What the maintenance dry runs print (issue 13, first-hour frictions): `compact --dry-run`
// names partitions as Iceberg's partition folders (`ts_day=2026-03-01/id_bucket_4=3/cust=a`),
// not the internal key (`number:20513/number:3/string:a`); `expire-snapshots --dry-run` lists
// each snapshot and file that would go, with totals, cut at --limit, or all of it as --json —
// and the files a real run then deletes are exactly the ones listed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../catalog/index.ts';
import { expireSnapshots } from '../../../compaction/expire-snapshots.ts';
import { startCompaction } from '../../../compaction/compaction-service.ts';
import { runCli } from '../../../src/cli/main.ts';
import { pathToUri } from '../../../src/io/local-file-io.ts';
import type { TableMetadata } from '../../../src/spec/table-metadata.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];

interface Run { code: number; out: string[]; err: string[] }
const logSink = { write: (): boolean => true } as unknown as NodeJS.WritableStream;

async function withWarehouse(fn: (dir: string, floe: (...args: string[]) => Promise<Run>) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-dry-run-'));
  const floe = async (...args: string[]): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--warehouse', dir, ...args], {
      openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name }),
      expireSnapshots,
      compact: (catalog, o, out) => startCompaction(catalog, { ...o, progress: false }, out, logSink),
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
    });
    return { code, out, err };
  };
  try {
    assert.equal((await floe('namespace', 'create', 'db')).code, 0);
    await fn(dir, floe);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function ok(r: Promise<Run>): Promise<Run> {
  const run = await r;
  assert.equal(run.code, 0, `stderr: ${run.err.join(' | ')}`);
  assert.deepEqual(run.err, []);
  return run;
}

async function createTable(dir: string, floe: (...args: string[]) => Promise<Run>, fields: object[], partitionBy: string): Promise<void> {
  const schema = path.join(dir, 'schema.json');
  await writeFile(schema, JSON.stringify({ type: 'struct', fields }));
  await ok(floe('table', 'create', 'db.t', '--schema', schema, '--partition-by', partitionBy));
}

async function appendLines(dir: string, floe: (...args: string[]) => Promise<Run>, n: number, lines: string[]): Promise<void> {
  const file = path.join(dir, `batch-${n}.ndjson`);
  await writeFile(file, `${lines.join('\n')}\n`);
  await ok(floe('append', 'db.t', file));
}

async function metadata(dir: string): Promise<TableMetadata> {
  const c = await openCatalog({ warehouse: dir });
  try { return (await c.loadTable({ namespace: ['db'], name: 't' })).metadata; } finally { await c.close(); }
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())
    .map((e) => pathToUri(path.join(e.parentPath, e.name))).sort();
}

describe('compact --dry-run', () => {
  test('names each group\'s partition as its folder: day, bucket, identity and null values', () => withWarehouse(async (dir, floe) => {
    await createTable(dir, floe, [
      { name: 'id', required: true, type: 'long' },
      { name: 'ts', required: true, type: 'timestamptz' },
      { name: 'cust', required: false, type: 'string' },
    ], 'day(ts),bucket(4,id),cust');
    // bucket(4) of the long 34 is 3 (the spec's hash example: murmur3 of 34L is 2017239379).
    for (let i = 0; i < 2; i++) {
      await appendLines(dir, floe, i, [
        '{"id": 34, "ts": "2026-03-01T10:00:00Z", "cust": "cust"}',
        '{"id": 34, "ts": "2026-03-02T23:30:00+02:00", "cust": null}',
      ]);
    }
    const dry = await ok(floe('compact', 'db.t', '--dry-run', '--min-input-files', '2'));
    const groups = dry.out.slice(1).map((l) => /partition (\S+): 2 files/.exec(l)?.[1]).sort();
    assert.deepEqual(groups, ['ts_day=2026-03-01/id_bucket_4=3/cust=cust', 'ts_day=2026-03-02/id_bucket_4=3/cust=null']);
    assert.equal(dry.out.length, 3);
  }));

  test('hour, month and year as yyyy-MM-dd-HH, yyyy-MM and yyyy; an unpartitioned table says so', () => withWarehouse(async (dir, floe) => {
    await createTable(dir, floe, [
      { name: 'ts', required: true, type: 'timestamp' },
      { name: 'd', required: true, type: 'date' },
    ], 'hour(ts),month(d),year(d)');
    for (let i = 0; i < 2; i++) await appendLines(dir, floe, i, ['{"ts": "1969-12-31T23:59:59", "d": "2026-03-05"}']);
    const dry = await ok(floe('compact', 'db.t', '--dry-run', '--min-input-files', '2'));
    assert.match(dry.out[1]!, /^ {2}group 1: spec 0 partition ts_hour=1969-12-31-23\/d_month=2026-03\/d_year=2026: 2 files, /);

    await ok(floe('table', 'create', 'db.flat', '--schema', path.join(dir, 'schema.json')));
    for (let i = 0; i < 2; i++) {
      const file = path.join(dir, `flat-${i}.ndjson`);
      await writeFile(file, '{"ts": "2026-01-01T00:00:00", "d": "2026-01-01"}\n');
      await ok(floe('append', 'db.flat', file));
    }
    const flat = await ok(floe('compact', 'db.flat', '--dry-run', '--min-input-files', '2'));
    assert.match(flat.out[1]!, /^ {2}group 1: spec 0 partition \(unpartitioned\): 2 files, /);
  }));
});

describe('expire-snapshots --dry-run', () => {
  // Six appends of one row each, then a compaction: expiring all but the newest snapshot frees
  // the six data files, their six manifests and six manifest lists.
  const history = async (dir: string, floe: (...args: string[]) => Promise<Run>): Promise<void> => {
    await createTable(dir, floe, [{ name: 'id', required: true, type: 'long' }, { name: 'cust', required: true, type: 'string' }], 'cust');
    for (let i = 0; i < 6; i++) await appendLines(dir, floe, i, [`{"id": ${i}, "cust": "a"}`]);
    await ok(floe('compact', 'db.t', '--min-input-files', '2'));
  };

  test('lists each snapshot and file up to --limit, then "… and K more", with totals; changes nothing', () => withWarehouse(async (dir, floe) => {
    await history(dir, floe);
    const before = await metadata(dir);
    const filesBefore = await filesUnder(path.join(dir, 'db', 't'));
    const r = await ok(floe('expire-snapshots', 'db.t', '--older-than', '0ms', '--retain-last', '1', '--dry-run', '--limit', '4'));
    const appends = before.snapshots.slice(0, 6);
    assert.deepEqual(r.out.slice(0, 6), [
      'snapshots that would expire (6):',
      ...appends.slice(0, 4).map((s) => `  ${s.snapshotId}  ${new Date(s.timestampMs).toISOString()}  append  added-records 1`),
      '  … and 2 more snapshot(s)',
    ]);
    assert.equal(r.out[6], 'files that would be deleted (18):');
    const listed = r.out.slice(7, 11);
    for (const line of listed) assert.match(line, /^ {2}data {2}file:\/\/\S+\/db\/t\/data\/cust=a\/\S+\.parquet {2}\d+ B$/);
    assert.equal(r.out[11], '  … and 14 more file(s)');
    assert.match(r.out[12]!, /^would expire 6 snapshot\(s\); would delete 18 files: 6 data files \(\d+(\.\d)? (B|KiB)\), 6 manifests \(\d+\.\d KiB\), 6 manifest lists$/);
    assert.equal(r.out.length, 13);
    assert.deepEqual((await metadata(dir)).snapshots.map((s) => s.snapshotId), before.snapshots.map((s) => s.snapshotId));
    assert.deepEqual(await filesUnder(path.join(dir, 'db', 't')), filesBefore);
  }));

  test('--json lists everything; a real run then deletes exactly the listed files', () => withWarehouse(async (dir, floe) => {
    await history(dir, floe);
    const before = await metadata(dir);
    const filesBefore = await filesUnder(path.join(dir, 'db', 't'));
    const r = await ok(floe('expire-snapshots', 'db.t', '--older-than', '0ms', '--retain-last', '1', '--dry-run', '--json'));
    assert.equal(r.out.length, 1);
    const plan = JSON.parse(r.out[0]!) as {
      expiredSnapshots: number; snapshots: { snapshotId: string; committedAt: string; operation: string; addedRecords: number | null }[];
      files: { kind: string; uri: string; sizeBytes: number | null }[]; totals: Record<string, { files: number; bytes: number | null }>;
    };
    assert.equal(plan.expiredSnapshots, 6);
    assert.deepEqual(plan.snapshots, before.snapshots.slice(0, 6).map((s) => ({
      snapshotId: s.snapshotId.toString(), committedAt: new Date(s.timestampMs).toISOString(), operation: 'append', addedRecords: 1,
    })));
    assert.deepEqual(plan.files.filter((f) => f.kind === 'manifest-list').map((f) => f.uri).sort(),
      before.snapshots.slice(0, 6).map((s) => s.manifestList).sort());
    assert.deepEqual(Object.fromEntries(Object.entries(plan.totals).map(([k, v]) => [k, v.files])),
      { 'data': 6, 'position-deletes': 0, 'equality-deletes': 0, 'manifest': 6, 'manifest-list': 6 });
    // Sizes are the real file sizes.
    const { statSync } = await import('node:fs');
    for (const f of plan.files) if (f.sizeBytes !== null) assert.equal(f.sizeBytes, statSync(new URL(f.uri)).size, f.uri);

    await ok(floe('expire-snapshots', 'db.t', '--older-than', '0ms', '--retain-last', '1'));
    const filesAfter = new Set(await filesUnder(path.join(dir, 'db', 't')));
    const gone = filesBefore.filter((f) => !filesAfter.has(f));
    assert.deepEqual(gone, plan.files.map((f) => f.uri).sort());
  }));

  test('--json without --dry-run and a bad --limit are one-line errors', () => withWarehouse(async (dir, floe) => {
    await createTable(dir, floe, [{ name: 'id', required: true, type: 'long' }], 'id');
    const r = await floe('expire-snapshots', 'db.t', '--json');
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, ['floe: --json is only for --dry-run (a real expiry prints one summary line)']);
    const l = await floe('expire-snapshots', 'db.t', '--dry-run', '--limit', '0');
    assert.equal(l.code, 1);
    assert.match(l.err[0]!, /--limit must be a positive integer, got '0'/);
  }));
});
