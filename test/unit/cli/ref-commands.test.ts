// `floe branch …` / `floe tag …` in-process against a temp warehouse: every command's happy
// path with its exact output, and every bad input as a one-line error (exit 1) that leaves the
// table's metadata file unchanged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../catalog/index.ts';
import { expireSnapshots } from '../../../compaction/expire-snapshots.ts';
import { runCli } from '../../../src/cli/main.ts';
import { formatDuration, retentionFromFlags } from '../../../src/cli/ref-commands.ts';
import type { TableMetadata } from '../../../src/spec/table-metadata.ts';
import { auditPropertyKey, encodeAuditRecord } from '../../../src/wap/branch-status.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];

const SCHEMA = { type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 'v', required: false, type: 'string' }] };
const T = { namespace: ['db'], name: 't' };

interface Run { code: number; out: string[]; err: string[] }
let dir: string;

async function floe(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--warehouse', dir, ...args], {
    openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name, ...(o.uri ? { uri: o.uri } : {}) }),
    expireSnapshots: (c, id, o) => expireSnapshots(c, id, o),
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
  });
  return { code, out, err };
}

async function ok(...args: string[]): Promise<string[]> {
  const r = await floe(...args);
  assert.equal(r.code, 0, `floe ${args.join(' ')}: ${r.err.join(' | ')}`);
  return r.out;
}

async function load(): Promise<{ metadata: TableMetadata; metadataLocation: string }> {
  const c = await openCatalog({ warehouse: dir });
  try { return await c.loadTable(T); } finally { await c.close(); }
}

async function setProperty(key: string, value: string): Promise<void> {
  const c = await openCatalog({ warehouse: dir });
  try { await c.commitTable(T, [], [{ action: 'set-properties', updates: { [key]: value } }]); } finally { await c.close(); }
}

/** exit 1, one `floe: …` stderr line matching `re`, nothing printed, table unchanged. */
async function refused(re: RegExp, ...args: string[]): Promise<void> {
  const before = (await load()).metadataLocation;
  const r = await floe(...args);
  assert.equal(r.code, 1, `floe ${args.join(' ')} should fail; out: ${r.out.join(' | ')}`);
  assert.equal(r.err.length, 1, JSON.stringify(r.err));
  assert.ok(r.err[0]!.startsWith('floe: ') && !r.err[0]!.includes('\n'), r.err[0]);
  assert.match(r.err[0]!, re);
  assert.deepEqual(r.out, []);
  assert.equal((await load()).metadataLocation, before, 'table unchanged');
}

async function appendLines(branch: string, ...ids: number[]): Promise<bigint> {
  const f = path.join(dir, `in-${branch.replace(/\W/g, '_')}-${ids.join('_')}.ndjson`);
  await writeFile(f, ids.map((id) => JSON.stringify({ id, v: `v${id}` })).join('\n'));
  const out = await ok('append', 'db.t', f, '--branch', branch);
  return BigInt(/snapshot (-?\d+)/.exec(out[0]!)![1]!);
}

let s1: bigint;
let s2: bigint;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'floe-refcli-'));
  await ok('namespace', 'create', 'db');
  const schema = path.join(dir, 'schema.json');
  await writeFile(schema, JSON.stringify(SCHEMA));
  await ok('table', 'create', 'db.t', '--schema', schema);
  s1 = await appendLines('main', 1, 2);
  s2 = await appendLines('main', 3);
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

describe('floe branch / tag', () => {
  test('branch create, with --from and retention flags', async () => {
    assert.deepEqual(await ok('branch', 'create', 'db.t', 'dev'), [`created branch dev of db.t at snapshot ${s2} (retention: table defaults)`]);
    assert.deepEqual(await ok('branch', 'create', 'db.t', 'old', '--from', String(s1), '--min-snapshots-to-keep', '3', '--max-snapshot-age', '7d', '--max-ref-age', '30d'),
      [`created branch old of db.t at snapshot ${s1} (retention: min-snapshots-to-keep=3 max-snapshot-age=7d max-ref-age=30d)`]);
    assert.deepEqual((await load()).metadata.refs.old, { snapshotId: s1, type: 'branch', minSnapshotsToKeep: 3, maxSnapshotAgeMs: 7 * 86_400_000, maxRefAgeMs: 30 * 86_400_000 });
  });

  test('tag create / list, branch from a tag', async () => {
    assert.deepEqual(await ok('tag', 'create', 'db.t', 'v1', '--snapshot', String(s1), '--max-ref-age', '365d'), [`created tag v1 of db.t at snapshot ${s1} (max-ref-age=365d)`]);
    assert.deepEqual(await ok('branch', 'create', 'db.t', 'from-v1', '--from', 'v1'), [`created branch from-v1 of db.t at snapshot ${s1} (retention: table defaults)`]);
    const list = await ok('tag', 'list', 'db.t');
    assert.equal(list.length, 2);
    assert.match(list[1]!, new RegExp(`^v1\\s+${s1}\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+max-ref-age=365d$`));
    const json = JSON.parse((await ok('tag', 'list', 'db.t', '--json')).join('\n')) as unknown[];
    assert.deepEqual(json.map((x) => ({ ...(x as object), 'committed-at': 'x' })), [{ name: 'v1', 'snapshot-id': String(s1), 'committed-at': 'x', retention: { 'max-ref-age-ms': 365 * 86_400_000 } }]);
  });

  test('branch list: ahead/behind main and audit status', async () => {
    const d1 = await appendLines('dev', 10);
    const d2 = await appendLines('dev', 11);
    const m3 = await appendLines('main', 4);
    // old: forked at s1, main has s2 and m3 since; dev: 2 ahead, 1 behind.
    await setProperty(auditPropertyKey('dev'), encodeAuditRecord({ status: 'failed', snapshotId: d2, checkedAtMs: 1, checks: 2, failed: [{ name: 'no_null_ids', type: 'not_null', failing: 3, message: 'x' }] }));
    await setProperty(auditPropertyKey('old'), encodeAuditRecord({ status: 'passed', snapshotId: s2, checkedAtMs: 1, checks: 1, failed: [] }));
    const rows = await ok('branch', 'list', 'db.t');
    const cells = rows.map((r) => r.split(/\s{2,}/));
    assert.deepEqual(cells, [
      ['branch', 'head', 'ahead', 'behind', 'audit', 'retention'],
      ['main', String(m3), '0', '0', 'pending', 'table defaults'],
      ['dev', String(d2), '2', '1', 'failed (no_null_ids)', 'table defaults'],
      ['from-v1', String(s1), '0', '2', 'pending', 'table defaults'],
      // old's record is of another head (s2): stale, so pending.
      ['old', String(s1), '0', '2', 'pending', 'min-snapshots-to-keep=3 max-snapshot-age=7d max-ref-age=30d'],
    ]);
    void d1;
    const json = JSON.parse((await ok('branch', 'list', 'db.t', '--json')).join('\n')) as Record<string, unknown>[];
    assert.deepEqual(json.find((b) => b.name === 'dev'), { name: 'dev', 'snapshot-id': String(d2), ahead: 2, behind: 1, audit: 'failed', 'failed-checks': ['no_null_ids'], retention: {} });
  });

  test('branch retention / set-retention, tag retention', async () => {
    assert.deepEqual(await ok('branch', 'retention', 'db.t', 'dev', '--min-snapshots-to-keep', '5', '--max-ref-age', '90m'), ['retention of branch dev of db.t: min-snapshots-to-keep=5 max-ref-age=90m']);
    assert.deepEqual(await ok('branch', 'set-retention', 'db.t', 'dev', '--max-ref-age', 'none'), ['retention of branch dev of db.t: min-snapshots-to-keep=5']);
    assert.deepEqual(await ok('tag', 'retention', 'db.t', 'v1', '--max-ref-age', '2d'), ['retention of tag v1 of db.t: max-ref-age=2d']);
    const desc = (await ok('describe', 'db.t')).join('\n');
    assert.match(desc, /^ {2}dev \(branch\) -> \d+ \(min-snapshots-to-keep=5\)$/m);
    assert.match(desc, new RegExp(`^  v1 \\(tag\\) -> ${s1} \\(max-ref-age-ms=172800000\\)$`, 'm'));
  });

  test('branch rename moves the audit record; drop', async () => {
    const head = (await load()).metadata.refs.dev!.snapshotId;
    const record = (await load()).metadata.properties[auditPropertyKey('dev')];
    assert.deepEqual(await ok('branch', 'rename', 'db.t', 'dev', 'dev-renamed'), [`renamed branch dev of db.t to dev-renamed (snapshot ${head})`]);
    const m = (await load()).metadata;
    assert.equal(m.properties[auditPropertyKey('dev-renamed')], record);
    assert.equal(m.properties[auditPropertyKey('dev')], undefined);
    assert.deepEqual(await ok('branch', 'drop', 'db.t', 'from-v1'), [`dropped branch from-v1 of db.t (was at snapshot ${s1})`]);
    assert.equal((await load()).metadata.refs['from-v1'], undefined);
  });

  test('bad input: one-line errors, table unchanged', async () => {
    await refused(/t has no branch 'nope'/, 'branch', 'drop', 'db.t', 'nope');
    await refused(/branch 'main' of db\.t cannot be dropped/, 'branch', 'drop', 'db.t', 'main');
    await refused(/branch 'main' of db\.t cannot be renamed/, 'branch', 'rename', 'db.t', 'main', 'x');
    await refused(/db\.t already has a branch 'old'/, 'branch', 'rename', 'db.t', 'dev-renamed', 'old');
    await refused(/db\.t already has a tag 'v1'/, 'branch', 'create', 'db.t', 'v1');
    await refused(/'v1' of db\.t is a tag, not a branch/, 'branch', 'drop', 'db.t', 'v1');
    await refused(/'old' of db\.t is a branch, not a tag/, 'tag', 'drop', 'db.t', 'old');
    await refused(/'v1' of db\.t is a tag, not a branch/, 'branch', 'retention', 'db.t', 'v1', '--max-ref-age', '1d');
    await refused(/no branch, tag or snapshot 'ghost'/, 'branch', 'create', 'db.t', 'x', '--from', 'ghost');
    await refused(/duration '7 weeks' is not like 90s, 30m, 12h or 5d/, 'branch', 'create', 'db.t', 'x', '--max-ref-age', '7 weeks');
    await refused(/--max-snapshot-age must be longer than 0/, 'branch', 'create', 'db.t', 'x', '--max-snapshot-age', '0s');
    await refused(/--min-snapshots-to-keep must be a whole number > 0, got '1\.5'/, 'branch', 'retention', 'db.t', 'old', '--min-snapshots-to-keep', '1.5');
    await refused(/give at least one retention setting/, 'branch', 'retention', 'db.t', 'old');
    await refused(/branch name must not be empty/, 'branch', 'create', 'db.t', '');
    // A write to a tag by --branch.
    const f = path.join(dir, 'one.ndjson');
    await writeFile(f, '{"id": 99}\n');
    await refused(/'v1' is a tag, not a branch/, 'append', 'db.t', f, '--branch', 'v1');
    await refused(/'v1' is a tag, not a branch/, 'delete', 'db.t', '--where', 'id = 1', '--branch', 'v1');
  });

  test('retention set by the CLI is honoured by floe expire-snapshots', async () => {
    // keep: a branch with min-snapshots-to-keep=3 keeps its 3 newest even when all are old.
    await ok('branch', 'create', 'db.t', 'keep3', '--from', 'old', '--min-snapshots-to-keep', '3', '--max-snapshot-age', '1ms');
    const k1 = await appendLines('keep3', 100);
    const k2 = await appendLines('keep3', 101);
    const k3 = await appendLines('keep3', 102);
    // young: max-snapshot-age=30d wins over --older-than (Java's RemoveSnapshots: the ref's own
    // max-snapshot-age-ms, else the expire-older-than default), so both its snapshots stay.
    await ok('branch', 'create', 'db.t', 'young', '--max-snapshot-age', '30d');
    const y1 = await appendLines('young', 200);
    const y2 = await appendLines('young', 201);
    await ok('branch', 'retention', 'db.t', 'old', '--max-ref-age', '1ms');
    await new Promise((r) => setTimeout(r, 5));
    const out = await ok('expire-snapshots', 'db.t', '--older-than', '1ms', '--retain-last', '1');
    assert.match(out[0]!, /removed refs old/);
    const m = (await load()).metadata;
    assert.equal(m.refs.old, undefined, 'max-ref-age-ms expired the branch');
    const ids = new Set(m.snapshots.map((s) => s.snapshotId));
    for (const s of [k1, k2, k3]) assert.ok(ids.has(s), `keep3 snapshot ${s} kept by min-snapshots-to-keep=3`);
    for (const s of [y1, y2]) assert.ok(ids.has(s), `young snapshot ${s} kept by max-snapshot-age=30d`);
    assert.ok(!ids.has(s1) || m.refs.v1 !== undefined || m.refs['dev-renamed'] !== undefined);
    // The renamed branch still has its head and history back to its fork point.
    const q = m.refs['dev-renamed']!;
    assert.ok(ids.has(q.snapshotId));
  });
});

describe('retention flag parsing', () => {
  test('durations, none, and bad values', () => {
    assert.deepEqual(retentionFromFlags({ minSnapshotsToKeep: '2', maxSnapshotAge: '12h', maxRefAge: 'none' }), { minSnapshotsToKeep: 2, maxSnapshotAgeMs: 43_200_000, maxRefAgeMs: null });
    assert.throws(() => retentionFromFlags({ minSnapshotsToKeep: '0' }), /--min-snapshots-to-keep must be a whole number > 0/);
    assert.throws(() => retentionFromFlags({ maxRefAge: '5y' }), /duration '5y'/);
    assert.equal(formatDuration(90 * 60_000), '90m');
    assert.equal(formatDuration(86_400_000 * 7), '7d');
    assert.equal(formatDuration(1500), '1500ms');
  });
});
