// A commit's manifests and manifest list are written beside the catalog's metadata file
// (src/io/pending-writes.ts, Catalog.commitTable's `filesWritten`), here on an S3 warehouse
// (SeaweedFS from scripts/s3.sh) with a SQLite catalog, the manifest-list PutObject slowed or
// failed by the fault proxy (test/support/s3-fault-proxy.ts). What must hold: while the manifest
// list is held, the metadata file is already written but the pointer does not move (another
// catalog on the same SQLite file sees the old metadata); once the append returns, every file the
// new snapshot names is in the bucket; a manifest list that fails more often than the S3 client
// retries fails that commit attempt only, the retry commits once, and no metadata file of the
// failed attempt is left; one that fails on every attempt fails the append in one line, with no
// snapshot and the metadata/ prefix as it was.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { openCatalog } from '../../catalog/index.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { readTableRows } from '../support/read-table.ts';
import { S3FaultProxy, isPutObject, type RequestPredicate } from '../support/s3-fault-proxy.ts';
import { emptyAndDeleteBucket, ensureS3, freshBucket, s3Unavailable, type S3Server } from '../support/s3.ts';

// Under CI=true an S3 server that cannot be started throws here: the file fails, never skips.
const skip = await s3Unavailable();

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID: TableIdentifier = { namespace: ['lake'], name: 'events' };
/** How often floe's S3 client retries a request here: each PutObject is tried S3_RETRIES + 1 times. */
const S3_RETRIES = 2;
/** Commit attempts after a retryable failure (the table's commit.retry.num-retries). */
const COMMIT_RETRIES = 2;
const HOLD_MS = 2_000;

const rows = (from: number, n = 5): { id: number; v: string }[] => Array.from({ length: n }, (_, i) => ({ id: from + i, v: `r${from + i}` }));
const plain = (rs: readonly Record<string, unknown>[]): { id: number; v: unknown }[] =>
  rs.map((r) => ({ id: Number(r.id), v: r.v })).sort((a, b) => a.id - b.id);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isList = (uri: string): boolean => /\/metadata\/snap-[^/]*\.avro$/.test(uri);
const isMetadataFile = (uri: string): boolean => uri.endsWith('.metadata.json');
/** The PutObject of a manifest list (`…/metadata/snap-<id>-<attempt>-<uuid>.avro`). */
const isListPut: RequestPredicate = (r) => isPutObject(r) && r.path.includes('/metadata/snap-');

/** Iceberg's property names for the test server; fast, few S3 retries so fault cases stay quick. */
function props(server: S3Server, endpoint = server.endpoint): Record<string, string> {
  return {
    's3.endpoint': endpoint, 's3.path-style-access': 'true', 's3.region': server.region,
    's3.access-key-id': server.accessKeyId, 's3.secret-access-key': server.secretAccessKey,
    's3.retry.num-retries': String(S3_RETRIES), 's3.retry.min-wait-ms': '20', 's3.retry.max-wait-ms': '100',
  };
}

/** Polls `check` every 20 ms until it holds; fails naming `what` after `ms`. */
async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

describe('S3: manifests and manifest list written beside the metadata file', { skip }, () => {
  let server: S3Server;
  const buckets: string[] = [];
  const dirs: string[] = [];
  let catalogs: Catalog[] = [];
  let proxies: S3FaultProxy[] = [];

  before(async () => { server = await ensureS3(); });
  afterEach(async () => {
    for (const p of proxies) await p.close();
    for (const c of catalogs) await c.close().catch(() => undefined);
    proxies = [];
    catalogs = [];
  });
  after(async () => {
    for (const b of buckets) await emptyAndDeleteBucket(server, b).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A table in a fresh bucket whose catalog (SQLite) talks to S3 through a fault proxy, and a
   * second catalog on the same SQLite file that talks to S3 directly. */
  async function setup(name: string): Promise<{ proxy: S3FaultProxy; catalog: Catalog; observer: Catalog; metadataPrefix: string; dataPrefix: string }> {
    const bucket = await freshBucket(server, `overlap-${name}`);
    buckets.push(bucket);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-s3-overlap-'));
    dirs.push(dir);
    const proxy = await S3FaultProxy.start(server.endpoint);
    proxies.push(proxy);
    const warehouse = `s3://${bucket}/wh`;
    const uri = `sqlite:${path.join(dir, 'catalog.db')}`;
    const catalog = await openCatalog({ warehouse, uri, properties: props(server, proxy.endpoint) });
    catalogs.push(catalog);
    await catalog.createNamespace(['lake']);
    await catalog.createTable(ID, { schema: SCHEMA, properties: {
      'commit.retry.num-retries': String(COMMIT_RETRIES), 'commit.retry.min-wait-ms': '10', 'commit.retry.max-wait-ms': '50',
    } });
    const observer = await openCatalog({ warehouse, uri, properties: props(server) });
    catalogs.push(observer);
    const location = `${warehouse}/lake/events`;
    return { proxy, catalog, observer, metadataPrefix: `${location}/metadata/`, dataPrefix: `${location}/data/` };
  }

  const listing = async (c: Catalog, prefix: string): Promise<string[]> => (await c.io.list(prefix)).map((f) => f.uri).sort();

  test('a held manifest-list PUT: the metadata file is written meanwhile, the pointer moves only once the list is in the bucket', { timeout: 60_000 }, async () => {
    const { proxy, catalog, observer, metadataPrefix } = await setup('held');
    const before = (await observer.loadTable(ID)).metadataLocation;
    const metadataBefore = (await listing(observer, metadataPrefix)).filter(isMetadataFile);
    // 'request': the proxy holds the PUT before forwarding it, so the list is not in the bucket meanwhile.
    proxy.delay(HOLD_MS, isListPut, { count: 1, phase: 'request' });
    const started = performance.now();
    const append = appendRecords(catalog, ID, rows(0));
    // Observed before the append is awaited; the assertions below then see its outcome.
    append.catch(() => undefined);

    await until('the manifest-list PUT reaches the proxy', HOLD_MS / 2, () => proxy.counters.faults.delay === 1);
    const held = proxy.log.find((e) => e.fault === 'delay');
    assert.ok(held && held.method === 'PUT', JSON.stringify(proxy.log));
    const listUri = `s3:/${held.path}`;
    assert.ok(isList(listUri), listUri);
    // The metadata file is written beside the held list, not after it.
    let newMetadata: string[] = [];
    await until('the new metadata file is in the bucket while the manifest list is held', HOLD_MS / 2, async () => {
      newMetadata = (await listing(observer, metadataPrefix)).filter((f) => isMetadataFile(f) && !metadataBefore.includes(f));
      return newMetadata.length === 1;
    });
    assert.ok(performance.now() - started < HOLD_MS, 'still inside the hold');
    assert.equal(proxy.counters.faults.delay, 1);
    assert.equal(await observer.io.exists(listUri), false, 'the manifest list is not in the bucket yet');
    assert.equal((await observer.loadTable(ID)).metadataLocation, before, 'the pointer has not moved while the manifest list is held');

    const r = await append;
    assert.ok(performance.now() - started >= HOLD_MS, 'the append waited for the held manifest list');
    assert.equal(r.attempts, 1);
    assert.equal(r.snapshot.manifestList, listUri);
    assert.deepEqual([r.table.metadataLocation], newMetadata, 'the metadata file written during the hold is the one committed');
    const seen = await observer.loadTable(ID);
    assert.equal(seen.metadataLocation, r.table.metadataLocation);
    assert.equal(seen.metadata.snapshots.length, 1);
    const snapshot = seen.metadata.snapshots[0]!;
    assert.equal(snapshot.manifestList, listUri);
    assert.ok(await observer.io.exists(snapshot.manifestList), `manifest list ${snapshot.manifestList}`);
    const manifests = await snapshotManifests(observer.io, snapshot);
    assert.ok(manifests.length >= 1);
    for (const m of manifests) assert.ok(await observer.io.exists(m.manifestPath), `manifest ${m.manifestPath}`);
    assert.deepEqual(plain(await readTableRows(observer, ID)), rows(0));
  });

  test('a manifest-list PUT failing (500) more often than the S3 client retries, in one commit attempt: the retry commits once, no metadata file of the failed attempt is left', { timeout: 60_000 }, async () => {
    const { proxy, catalog, observer, metadataPrefix } = await setup('once');
    const before = (await observer.loadTable(ID)).metadataLocation;
    // Every try of the first attempt's PutObject: the S3 client gives up and the attempt fails.
    proxy.internalError(S3_RETRIES + 1, isListPut);
    const r = await appendRecords(catalog, ID, rows(0));
    assert.equal(proxy.pendingFaults, 0, JSON.stringify(proxy.log));
    assert.equal(proxy.counters.faults.internalError, S3_RETRIES + 1);
    const listPuts = proxy.log.filter((e) => e.method === 'PUT' && e.path.includes('/metadata/snap-'));
    assert.equal(listPuts.length, S3_RETRIES + 2, `the failed attempt's tries, then the retry's: ${JSON.stringify(listPuts)}`);
    assert.equal(new Set(listPuts.map((e) => e.path)).size, 2, 'the retry wrote a manifest list of its own');
    assert.equal(r.attempts, 2);

    const t = await observer.loadTable(ID);
    assert.equal(t.metadataLocation, r.table.metadataLocation);
    assert.equal(t.metadata.snapshots.length, 1);
    assert.equal(t.metadata.snapshots[0]!.manifestList, r.snapshot.manifestList);
    assert.deepEqual(plain(await readTableRows(observer, ID)), rows(0));

    // The metadata/ prefix: the created table's metadata file and the commit's, the committed
    // manifest list and the manifests it names — nothing of the failed attempt.
    const files = await listing(catalog, metadataPrefix);
    assert.deepEqual(files.filter(isMetadataFile), [before, r.table.metadataLocation].sort(), files.join('\n'));
    // The failed attempt did write its metadata file (beside the failing list): it was removed.
    const metadataPuts = proxy.log.filter((e) => e.method === 'PUT' && e.path.endsWith('.metadata.json')).map((e) => `s3:/${e.path}`);
    assert.equal(metadataPuts.length, 3, `the table's, the failed attempt's, the retry's: ${metadataPuts.join(' ')}`);
    assert.equal(metadataPuts.filter((f) => !files.includes(f)).length, 1);
    const manifests = (await snapshotManifests(observer.io, t.metadata.snapshots[0]!)).map((m) => m.manifestPath);
    assert.deepEqual(files.filter((f) => !isMetadataFile(f)), [r.snapshot.manifestList, ...manifests].sort(), files.join('\n'));
  });

  test('a manifest-list PUT failing on every attempt: the append fails in one line naming the file, no snapshot, the metadata/ prefix as before', { timeout: 60_000 }, async () => {
    const { proxy, catalog, observer, metadataPrefix, dataPrefix } = await setup('always');
    const before = await observer.loadTable(ID);
    const filesBefore = await listing(catalog, metadataPrefix);
    proxy.internalError(Number.POSITIVE_INFINITY, isListPut);
    const err = await appendRecords(catalog, ID, rows(0)).then(() => undefined, (e: unknown) => e as Error & { retryable?: boolean });
    proxy.clearFaults();
    assert.ok(err, 'the append failed');
    assert.match(err.message, /cannot PutObject s3:\/\/\S+\/metadata\/snap-[^/\s]+\.avro: HTTP 500 InternalError/);
    assert.equal(err.message.includes('\n'), false, err.message);
    // Each commit attempt (1 + commit.retry.num-retries) tried its list S3_RETRIES + 1 times.
    const listPuts = proxy.log.filter((e) => e.method === 'PUT' && e.path.includes('/metadata/snap-'));
    assert.equal(listPuts.length, (COMMIT_RETRIES + 1) * (S3_RETRIES + 1), JSON.stringify(listPuts));
    assert.ok(listPuts.every((e) => e.fault === 'internalError'));
    // Every attempt wrote its metadata file beside its failing list; none is left (checked below).
    const metadataPuts = proxy.log.filter((e) => e.method === 'PUT' && e.path.endsWith('.metadata.json'));
    assert.equal(metadataPuts.length, 1 + COMMIT_RETRIES + 1, JSON.stringify(metadataPuts));

    const t = await observer.loadTable(ID);
    assert.equal(t.metadataLocation, before.metadataLocation);
    assert.equal(t.metadata.snapshots.length, 0);
    assert.equal(t.metadata.currentSnapshotId, null);
    assert.deepEqual(await listing(catalog, metadataPrefix), filesBefore, 'the metadata/ prefix holds what it held before the append');
    assert.deepEqual(await listing(catalog, dataPrefix), [], 'no data file of the failed append is left');
  });
});
