// Branch and tag management against a real SQLite catalog: every operation's happy path, every
// refusal leaves the table's metadata file unchanged, a concurrent move of the source ref makes
// the change re-run on the new head, and a rename carries the branch's audit record along.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CommitStateUnknownError, NotFoundError, ValidationError } from '../../../src/errors.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import type { TableRequirement, TableUpdate } from '../../../src/spec/table-updates.ts';
import type { Catalog, CommitTableOptions, LoadedTable } from '../../../src/table/catalog.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import {
  BRANCH_PROPERTY_PREFIXES, RESERVED_REF_PREFIX, createBranch, createTag, dropRef, renameBranch, setRefRetention,
} from '../../../src/transaction/manage-refs.ts';
import { QUARANTINE_PREFIX, auditPropertyKey, encodeAuditRecord } from '../../../src/wap/branch-status.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID: TableIdentifier = { namespace: ['t'], name: 'refs' };
const rows = (from: number, n = 3) => Array.from({ length: n }, (_, i) => ({ id: from + i, v: `r${from + i}` }));

let wh: TestWarehouse;
let first: bigint;
let second: bigint;

beforeEach(async () => {
  wh = await testWarehouse('floe-refs-');
  await wh.catalog.createNamespace(['t']);
  await wh.catalog.createTable(ID, { schema: SCHEMA });
  first = (await appendRecords(wh.catalog, ID, rows(1))).snapshot.snapshotId;
  second = (await appendRecords(wh.catalog, ID, rows(10))).snapshot.snapshotId;
});
afterEach(async () => { await wh.cleanup(); });

const load = () => wh.catalog.loadTable(ID);

/** Runs `fn`, expects it to throw `kind` with a one-line message matching `re`, and the table's
 * metadata file to be the same as before. */
async function refused(fn: () => Promise<unknown>, kind: new (...a: never[]) => Error, re: RegExp): Promise<void> {
  const before = (await load()).metadataLocation;
  await assert.rejects(fn, (e: Error) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${e.name}: ${e.message}`);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return true;
  });
  assert.equal((await load()).metadataLocation, before, 'table unchanged');
}

describe('createBranch / createTag', () => {
  test('a branch starts at main\'s head by default, with its retention', async () => {
    const r = await createBranch(wh.catalog, ID, 'dev', { retention: { minSnapshotsToKeep: 3, maxSnapshotAgeMs: 86_400_000, maxRefAgeMs: 7 * 86_400_000 } });
    assert.deepEqual(r.ref, { snapshotId: second, type: 'branch', minSnapshotsToKeep: 3, maxSnapshotAgeMs: 86_400_000, maxRefAgeMs: 7 * 86_400_000 });
    assert.deepEqual((await load()).metadata.refs.dev, r.ref);
    assert.equal((await load()).metadata.refs.main?.snapshotId, second, 'main unchanged');
  });

  test('from a snapshot id, a tag or a branch', async () => {
    assert.equal((await createBranch(wh.catalog, ID, 'old', { from: first })).ref?.snapshotId, first);
    assert.equal((await createBranch(wh.catalog, ID, 'old2', { from: String(first) })).ref?.snapshotId, first);
    await createTag(wh.catalog, ID, 'v1', { snapshotId: first });
    assert.equal((await createBranch(wh.catalog, ID, 'from-tag', { from: 'v1' })).ref?.snapshotId, first);
    assert.equal((await createBranch(wh.catalog, ID, 'from-branch', { from: 'old' })).ref?.snapshotId, first);
    const m = (await load()).metadata;
    assert.deepEqual(m.refs.v1, { snapshotId: first, type: 'tag' });
  });

  test('a tag defaults to main\'s head and takes max-ref-age-ms', async () => {
    const r = await createTag(wh.catalog, ID, 'release', { maxRefAgeMs: 1000 });
    assert.deepEqual(r.ref, { snapshotId: second, type: 'tag', maxRefAgeMs: 1000 });
  });

  test('a branch whose source moved concurrently is created at the new head', async () => {
    await createBranch(wh.catalog, ID, 'src');
    let third: bigint | undefined;
    const r = await createBranch(wh.catalog, ID, 'copy', {
      from: 'src',
      hooks: {
        beforeSwap: async (attempt) => {
          if (attempt === 1) third = (await appendRecords(wh.catalog, ID, rows(20), { branch: 'src' })).snapshot.snapshotId;
        },
      },
      policy: { numRetries: 2, minWaitMs: 1, maxWaitMs: 2, totalTimeoutMs: 10_000 },
    });
    assert.ok(third !== undefined);
    assert.equal(r.ref?.snapshotId, third, 'copy follows src to its new head');
  });

  test('refusals: taken names, bad names, unknown sources, tag retention, empty table', async () => {
    await createTag(wh.catalog, ID, 'v1');
    await refused(() => createBranch(wh.catalog, ID, 'main'), ValidationError, /t\.refs already has a branch 'main'/);
    await refused(() => createBranch(wh.catalog, ID, 'v1'), ValidationError, /already has a tag 'v1'/);
    await refused(() => createTag(wh.catalog, ID, 'v1'), ValidationError, /already has a tag 'v1'/);
    await refused(() => createBranch(wh.catalog, ID, ''), ValidationError, /branch name must not be empty/);
    await refused(() => createBranch(wh.catalog, ID, 'a\nb'), ValidationError, /control character/);
    await refused(() => createBranch(wh.catalog, ID, ' dev'), ValidationError, /starts or ends with a blank/);
    // Reserved for the quarantine step; a hand-made one would pass for a quarantined batch.
    await refused(() => createBranch(wh.catalog, ID, 'quarantine/audit/1'), ValidationError, /branch name 'quarantine\/audit\/1' is reserved/);
    await refused(() => createTag(wh.catalog, ID, 'quarantine/x'), ValidationError, /tag name 'quarantine\/x' is reserved/);
    await refused(() => renameBranch(wh.catalog, ID, 'main', 'quarantine/main/1'), ValidationError, /reserved/);
    await refused(() => createBranch(wh.catalog, ID, 'dev', { from: 'nope' }), NotFoundError, /has no branch, tag or snapshot 'nope' \(it has: main \(branch\), v1 \(tag\)\)/);
    await refused(() => createBranch(wh.catalog, ID, 'dev', { from: 123n }), NotFoundError, /has no snapshot 123/);
    await refused(() => createBranch(wh.catalog, ID, 'dev', { retention: { minSnapshotsToKeep: 0 } }), ValidationError, /min-snapshots-to-keep must be a whole number > 0/);
    await refused(() => createBranch(wh.catalog, ID, 'dev', { retention: { maxRefAgeMs: -5 } }), ValidationError, /max-ref-age-ms must be/);
    await wh.catalog.createTable({ namespace: ['t'], name: 'empty' }, { schema: SCHEMA });
    await assert.rejects(createBranch(wh.catalog, { namespace: ['t'], name: 'empty' }, 'dev'), /t\.empty has no snapshot yet/);
    // A ref resolves before a snapshot id: a ref named like one of the table's snapshots would shadow it.
    await refused(() => createBranch(wh.catalog, ID, String(first)), ValidationError, new RegExp(`t\\.refs has a snapshot ${first}: a ref of that name would shadow it`));
    await createBranch(wh.catalog, ID, 'dev');
    await refused(() => renameBranch(wh.catalog, ID, 'dev', String(second)), ValidationError, /would shadow it/);
    assert.equal((await createTag(wh.catalog, ID, '2026')).ref?.snapshotId, second, 'other digit names are fine');
  });
});

describe('dropRef', () => {
  test('drops a branch with its audit record, and a tag; snapshots stay', async () => {
    await createBranch(wh.catalog, ID, 'dev');
    await createTag(wh.catalog, ID, 'v1', { snapshotId: first });
    await appendRecords(wh.catalog, ID, rows(30), { branch: 'dev' });
    const key = auditPropertyKey('dev');
    await wh.catalog.commitTable(ID, [], [{ action: 'set-properties', updates: { [key]: 'x', 'other.prop': 'y' } }]);
    const snapshotsBefore = (await load()).metadata.snapshots.length;
    await dropRef(wh.catalog, ID, 'dev', { type: 'branch' });
    await dropRef(wh.catalog, ID, 'v1', { type: 'tag' });
    const m = (await load()).metadata;
    assert.deepEqual(Object.keys(m.refs), ['main']);
    assert.equal(m.properties[key], undefined);
    assert.equal(m.properties['other.prop'], 'y');
    assert.equal(m.snapshots.length, snapshotsBefore);
  });

  test('refusals: main, unknown, tag as branch, branch as tag', async () => {
    await createTag(wh.catalog, ID, 'v1');
    await createBranch(wh.catalog, ID, 'dev');
    await refused(() => dropRef(wh.catalog, ID, 'main'), ValidationError, /branch 'main' of t\.refs cannot be dropped/);
    await refused(() => dropRef(wh.catalog, ID, 'nope', { type: 'branch' }), NotFoundError, /t\.refs has no branch 'nope' \(it has: dev \(branch\), main \(branch\), v1 \(tag\)\)/);
    await refused(() => dropRef(wh.catalog, ID, 'v1', { type: 'branch' }), ValidationError, /'v1' of t\.refs is a tag, not a branch/);
    await refused(() => dropRef(wh.catalog, ID, 'dev', { type: 'tag' }), ValidationError, /'dev' of t\.refs is a branch, not a tag/);
  });
});

describe('renameBranch', () => {
  test('moves the ref, its retention and its audit record in one commit', async () => {
    assert.deepEqual(BRANCH_PROPERTY_PREFIXES, [auditPropertyKey('')], 'manage-refs moves the key branch-status.ts writes');
    assert.equal(RESERVED_REF_PREFIX, QUARANTINE_PREFIX, 'manage-refs reserves the prefix the quarantine step uses');
    await createBranch(wh.catalog, ID, 'dev', { from: first, retention: { minSnapshotsToKeep: 2 } });
    const record = encodeAuditRecord({ status: 'failed', snapshotId: first, checkedAtMs: 1, checks: 1, failed: [] });
    await wh.catalog.commitTable(ID, [], [{ action: 'set-properties', updates: { [auditPropertyKey('dev')]: record } }]);
    const before = await load();
    const r = await renameBranch(wh.catalog, ID, 'dev', 'dev-renamed');
    const m = r.table.metadata;
    assert.equal(m.refs.dev, undefined);
    assert.deepEqual(m.refs['dev-renamed'], { snapshotId: first, type: 'branch', minSnapshotsToKeep: 2 });
    assert.equal(m.properties[auditPropertyKey('dev')], undefined);
    assert.equal(m.properties[auditPropertyKey('dev-renamed')], record);
    assert.equal(m.metadataLog.at(-1)?.metadataFile, before.metadataLocation, 'exactly one commit');
  });

  test('a stale record under the new name is removed, not inherited', async () => {
    await createBranch(wh.catalog, ID, 'dev');
    await wh.catalog.commitTable(ID, [], [{ action: 'set-properties', updates: { [auditPropertyKey('prod')]: 'stale' } }]);
    const m = (await renameBranch(wh.catalog, ID, 'dev', 'prod')).table.metadata;
    assert.equal(m.properties[auditPropertyKey('prod')], undefined);
  });

  test('refusals: main either side, onto an existing ref, unknown, a tag', async () => {
    await createBranch(wh.catalog, ID, 'dev');
    await createBranch(wh.catalog, ID, 'other');
    await createTag(wh.catalog, ID, 'v1');
    await refused(() => renameBranch(wh.catalog, ID, 'main', 'x'), ValidationError, /branch 'main' of t\.refs cannot be renamed/);
    await refused(() => renameBranch(wh.catalog, ID, 'dev', 'main'), ValidationError, /cannot rename branch 'dev' of t\.refs to 'main'/);
    await refused(() => renameBranch(wh.catalog, ID, 'dev', 'other'), ValidationError, /already has a branch 'other'/);
    await refused(() => renameBranch(wh.catalog, ID, 'dev', 'v1'), ValidationError, /already has a tag 'v1'/);
    await refused(() => renameBranch(wh.catalog, ID, 'nope', 'x'), NotFoundError, /has no branch 'nope'/);
    await refused(() => renameBranch(wh.catalog, ID, 'v1', 'x'), ValidationError, /'v1' of t\.refs is a tag, not a branch/);
  });
});

describe('setRefRetention', () => {
  test('sets, keeps and clears settings', async () => {
    await createBranch(wh.catalog, ID, 'dev', { retention: { maxRefAgeMs: 5000 } });
    let r = await setRefRetention(wh.catalog, ID, 'dev', { minSnapshotsToKeep: 4, maxSnapshotAgeMs: 60_000 });
    assert.deepEqual(r.ref, { snapshotId: second, type: 'branch', minSnapshotsToKeep: 4, maxSnapshotAgeMs: 60_000, maxRefAgeMs: 5000 });
    r = await setRefRetention(wh.catalog, ID, 'dev', { maxRefAgeMs: null });
    assert.deepEqual(r.ref, { snapshotId: second, type: 'branch', minSnapshotsToKeep: 4, maxSnapshotAgeMs: 60_000 });
    r = await setRefRetention(wh.catalog, ID, 'main', { minSnapshotsToKeep: 10 });
    assert.equal(r.ref?.minSnapshotsToKeep, 10);
    await createTag(wh.catalog, ID, 'v1');
    assert.deepEqual((await setRefRetention(wh.catalog, ID, 'v1', { maxRefAgeMs: 99 }, { type: 'tag' })).ref, { snapshotId: second, type: 'tag', maxRefAgeMs: 99 });
  });

  test('retention settings survive later commits to the branch', async () => {
    await createBranch(wh.catalog, ID, 'dev', { retention: { minSnapshotsToKeep: 7 } });
    const s = (await appendRecords(wh.catalog, ID, rows(40), { branch: 'dev' })).snapshot.snapshotId;
    assert.deepEqual((await load()).metadata.refs.dev, { snapshotId: s, type: 'branch', minSnapshotsToKeep: 7 });
  });

  test('refusals: tag with branch settings, nothing given, unknown ref, bad values', async () => {
    await createTag(wh.catalog, ID, 'v1');
    await refused(() => setRefRetention(wh.catalog, ID, 'v1', { minSnapshotsToKeep: 2 }), ValidationError, /'v1' is a tag: min-snapshots-to-keep and max-snapshot-age-ms apply to branches only/);
    await refused(() => setRefRetention(wh.catalog, ID, 'main', {}), ValidationError, /give at least one retention setting/);
    await refused(() => setRefRetention(wh.catalog, ID, 'nope', { maxRefAgeMs: 1 }), NotFoundError, /t\.refs has no branch or tag 'nope'/);
    await refused(() => dropRef(wh.catalog, ID, 'nope'), NotFoundError, /t\.refs has no branch or tag 'nope'/);
    await refused(() => setRefRetention(wh.catalog, ID, 'main', { maxSnapshotAgeMs: 1.5 }), ValidationError, /max-snapshot-age-ms must be a whole number/);
  });
});

describe('lost answers', () => {
  test('a drop whose answer was lost is recognised, not reported as a failure', async () => {
    await createBranch(wh.catalog, ID, 'dev');
    const lossy: Catalog = new Proxy(wh.catalog, {
      get(target, prop, receiver) {
        if (prop === 'commitTable') {
          return async (id: TableIdentifier, reqs: readonly TableRequirement[], ups: readonly TableUpdate[], opts?: CommitTableOptions): Promise<LoadedTable> => {
            await target.commitTable(id, reqs, ups, opts);
            throw new CommitStateUnknownError('connection reset after commit');
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = await dropRef(lossy, ID, 'dev', { type: 'branch' });
    assert.equal(r.ref, undefined);
    assert.equal((await load()).metadata.refs.dev, undefined);
  });
});
