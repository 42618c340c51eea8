// floe on an S3 warehouse (SeaweedFS started by scripts/s3.sh): the FileIO contract on S3, a
// table's whole life (append, MERGE, compaction, expiry, orphan removal, doctor) with its rows
// checked by value, faults between floe and the server (503 SlowDown bursts, resets in the
// middle of an upload part, 500s on completion) that leave every commit whole and every row
// once with the retries counted and no multipart upload open, and bad settings that fail in
// one line naming the setting and never showing the secret.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { openCatalog } from '../../catalog/index.ts';
import { compactTable } from '../../compaction/compact-table.ts';
import { expireSnapshots } from '../../compaction/expire-snapshots.ts';
import { removeOrphanFiles } from '../../compaction/remove-orphans.ts';
import { runTableDoctor } from '../../compaction/table-doctor.ts';
import { AlreadyExistsError } from '../../src/errors.ts';
import { S3FileIO, s3ClientConfig } from '../../src/io/s3-file-io.ts';
import { s3Settings } from '../../src/io/s3-settings.ts';
import { s3Stats } from '../../src/io/s3-stats.ts';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { fileIoContract } from '../support/file-io-contract.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { S3FaultProxy, isCompleteMultipartUpload, isPutObject, isUploadPart } from '../support/s3-fault-proxy.ts';
import { emptyAndDeleteBucket, ensureS3, freshBucket, s3Client, type S3Server } from '../support/s3.ts';

const execFileP = promisify(execFile);
const SCHEMA = schemaFromJson({ type: 'struct', 'identifier-field-ids': [1], fields: [
  { id: 1, name: 'id', required: true, type: 'long' }, { id: 2, name: 'payload', required: false, type: 'string' },
] });
const ID = { namespace: ['lake'], name: 'events' };

/** Iceberg's property names for the test server (fast retries so fault tests stay quick). */
function props(server: S3Server, endpoint = server.endpoint): Record<string, string> {
  return {
    's3.endpoint': endpoint, 's3.path-style-access': 'true', 's3.region': server.region,
    's3.access-key-id': server.accessKeyId, 's3.secret-access-key': server.secretAccessKey,
    's3.retry.min-wait-ms': '20', 's3.retry.max-wait-ms': '200',
    // The smallest part S3 allows, so a few MB already go through multipart.
    's3.multipart.part-size-bytes': String(5 * 1024 * 1024),
  };
}

async function openUploads(server: S3Server, bucket: string): Promise<number> {
  const c = s3Client(server);
  try {
    return (await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
  } finally { c.destroy(); }
}

/** Rows with an incompressible payload (pseudo-random hex, the same for the same id): ~`bytes` bytes each. */
function rows(from: number, n: number, bytes = 64): { id: number; payload: string }[] {
  return Array.from({ length: n }, (_, i) => {
    let x = (from + i + 1) * 2654435761 >>> 0;
    let s = `${from + i}:`;
    while (s.length < bytes) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      s += x.toString(16).padStart(8, '0');
    }
    return { id: from + i, payload: s.slice(0, bytes) };
  });
}

const byId = (a: Record<string, unknown>, b: Record<string, unknown>): number => Number(a.id) - Number(b.id);
const plain = (rs: readonly Record<string, unknown>[]): { id: number; payload: unknown }[] => rs.map((r) => ({ id: Number(r.id), payload: r.payload })).sort(byId);

describe('S3 warehouse', () => {
  let server: S3Server;
  const buckets: string[] = [];
  const dirs: string[] = [];
  const catalogs: Catalog[] = [];

  before(async () => { server = await ensureS3(); });
  after(async () => {
    for (const c of catalogs) await c.close().catch(() => undefined);
    for (const b of buckets) await emptyAndDeleteBucket(server, b).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const bucket = async (prefix: string): Promise<string> => { const b = await freshBucket(server, prefix); buckets.push(b); return b; };
  const localDir = (): string => { const d = mkdtempSync(path.join(os.tmpdir(), 'floe-s3-')); dirs.push(d); return d; };
  const catalogOn = async (warehouse: string, endpoint?: string, dir = localDir()): Promise<Catalog> => {
    const c = await openCatalog({ warehouse, uri: `sqlite:${path.join(dir, 'catalog.db')}`, properties: props(server, endpoint) });
    catalogs.push(c);
    return c;
  };

  describe('FileIO contract', () => {
    fileIoContract('S3', async () => {
      const b = await bucket('contract');
      const io = new S3FileIO(s3Settings(props(server)));
      return { io, root: `s3://${b}/wh`, cleanup: () => io.destroy() };
    });
  });

  test('a table lives on S3: append, MERGE, compaction, expiry, orphan removal; rows by value; doctor healthy; no upload left open', async () => {
    const b = await bucket('life');
    const catalog = await catalogOn(`s3://${b}/warehouse`);
    await catalog.createNamespace(['lake']);
    const created = await catalog.createTable(ID, { schema: SCHEMA, properties: { 'write.merge.mode': 'merge-on-read' } });
    assert.equal(created.metadata.location, `s3://${b}/warehouse/lake/events`);
    const expected = new Map<number, string>();
    for (let i = 0; i < 4; i++) {
      const batch = rows(i * 1000, 1000);
      await appendRecords(catalog, ID, batch);
      for (const r of batch) expected.set(r.id, r.payload);
    }
    // One large append: ~12 MB through multipart (5 MiB parts).
    const big = rows(10_000, 12_000, 1000);
    await appendRecords(catalog, ID, big);
    for (const r of big) expected.set(r.id, r.payload);
    // MERGE by the key (merge-on-read: position deletes on S3).
    const changes = [{ id: 5, payload: 'merged-5' }, { id: 2500, payload: 'merged-2500' }, { id: 99_999, payload: 'new' }];
    await mergeRecords(catalog, ID, changes);
    for (const c of changes) expected.set(c.id, c.payload);
    const want = [...expected].map(([id, payload]) => ({ id, payload })).sort(byId);
    assert.deepEqual(plain(await readTableRows(catalog, ID)), want, 'after appends and MERGE');

    const compacted = await compactTable(catalog, ID, {});
    assert.ok(compacted.rewrittenFiles >= 2, `compaction rewrote ${compacted.rewrittenFiles} files`);
    assert.deepEqual(plain(await readTableRows(catalog, ID)), want, 'after compaction');

    const expired = await expireSnapshots(catalog, ID, { nowMs: Date.now() + 1000, olderThanMs: 0, retainLast: 1 });
    assert.ok(expired.deletedFiles > 0, 'expiry deleted the files only old snapshots used (DeleteObjects)');
    // A stray file and a stray upload, as a killed writer leaves them.
    const io = catalog.io;
    await io.writeNew(`s3://${b}/warehouse/lake/events/data/stray.parquet`, new Uint8Array([1, 2, 3]));
    const stray = await io.createNew(`s3://${b}/warehouse/lake/events/data/killed.parquet`);
    await stray.write(new Uint8Array(6 * 1024 * 1024));
    assert.equal(await openUploads(server, b), 1, 'the half-written file is an open multipart upload');
    const orphans = await removeOrphanFiles(catalog, ID, { nowMs: Date.now() + 60_000, olderThanMs: 0 });
    assert.equal(orphans.deletedFiles, 1);
    assert.equal(orphans.abortedUploads, 1);
    assert.equal(await openUploads(server, b), 0);
    assert.deepEqual(plain(await readTableRows(catalog, ID)), want, 'after expiry and orphan removal');
    const doctor = await runTableDoctor(catalog, ID, { deep: true });
    assert.ok(doctor.healthy, JSON.stringify(doctor.checks.filter((c) => c.count > 0)));
  });

  test('faults between floe and S3 (503 SlowDown bursts, resets mid-part, 500 on completion): every commit whole, every row once, retries counted, no upload left open', async () => {
    const b = await bucket('faults');
    const proxy = await S3FaultProxy.start(server.endpoint);
    try {
      const catalog = await catalogOn(`s3://${b}/wh`, proxy.endpoint);
      await catalog.createNamespace(['lake']);
      await catalog.createTable(ID, { schema: SCHEMA });
      const retriesBefore = s3Stats.retries;
      const expected: { id: number; payload: string }[] = [];
      const append = async (batch: { id: number; payload: string }[]): Promise<void> => {
        await appendRecords(catalog, ID, batch);
        expected.push(...batch);
      };
      proxy.slowDown(3, isPutObject);
      await append(rows(0, 500));
      proxy.slowDown(2, isUploadPart);
      await append(rows(1000, 16_000, 1000)); // ~8 MB of Parquet (hex compresses to half): two parts
      proxy.resetMidBody(2, isUploadPart);
      await append(rows(20_000, 16_000, 1000));
      proxy.internalError(1, isCompleteMultipartUpload);
      await append(rows(40_000, 16_000, 1000));
      proxy.resetMidBody(1, isPutObject);
      await append(rows(60_000, 100));
      assert.equal(proxy.pendingFaults, 0, `every armed fault was met: ${JSON.stringify(proxy.counters)} ${JSON.stringify(proxy.log.slice(0, 40))}`);
      assert.ok(proxy.counters.faults.slowDown === 5 && proxy.counters.faults.resetMidBody === 3 && proxy.counters.faults.internalError === 1, JSON.stringify(proxy.counters));
      assert.ok(s3Stats.retries - retriesBefore >= 9, `retries counted: ${s3Stats.retries - retriesBefore}`);
      const t = await catalog.loadTable(ID);
      assert.equal(t.metadata.snapshots.length, 5, 'one snapshot per append, none doubled');
      assert.deepEqual(plain(await readTableRows(catalog, ID)), expected.sort(byId));
      assert.equal(await openUploads(server, b), 0, 'no multipart upload left open');
    } finally {
      await proxy.close();
    }
  });

  test('a write whose answer is lost (the server stored it, the client timed out) succeeds on retry instead of failing with 412; so does a multipart completion', async () => {
    const b = await bucket('lost');
    const proxy = await S3FaultProxy.start(server.endpoint);
    try {
      const settings = s3Settings(props(server, proxy.endpoint));
      const client = new S3Client({ ...s3ClientConfig(settings), requestHandler: { requestTimeout: 1500, throwOnRequestTimeout: true } });
      const io = new S3FileIO(settings, client);
      proxy.delay(4000, isPutObject, { count: 1, phase: 'response' });
      const small = new TextEncoder().encode('{"format-version":2}');
      await io.writeNew(`s3://${b}/t/metadata/00001-x.metadata.json`, small);
      assert.deepEqual(await io.read(`s3://${b}/t/metadata/00001-x.metadata.json`), small);
      await assert.rejects(io.writeNew(`s3://${b}/t/metadata/00001-x.metadata.json`, new TextEncoder().encode('other')), AlreadyExistsError, 'another writer still cannot replace it');

      proxy.delay(4000, isCompleteMultipartUpload, { count: 1, phase: 'response' });
      const big = new Uint8Array(12 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
      await io.writeNew(`s3://${b}/t/data/big.parquet`, big);
      assert.equal((await io.read(`s3://${b}/t/data/big.parquet`)).length, big.length);
      assert.equal(proxy.counters.faults.delay, 2);
      assert.equal(await openUploads(server, b), 0);
      io.destroy();
    } finally {
      await proxy.close();
    }
  });

  test('a commit whose S3 server is gone fails in one retryable line and leaves the table as it was', async () => {
    const b = await bucket('gone');
    const proxy = await S3FaultProxy.start(server.endpoint);
    const dir = localDir();
    const catalog = await catalogOn(`s3://${b}/wh`, proxy.endpoint, dir);
    await catalog.createNamespace(['lake']);
    await catalog.createTable(ID, { schema: SCHEMA });
    await appendRecords(catalog, ID, rows(0, 10));
    await proxy.close(); // connection refused from now on
    const err = await appendRecords(catalog, ID, rows(100, 10)).then(() => undefined, (e: unknown) => e as Error & { retryable?: boolean });
    assert.ok(err, 'the append failed');
    assert.match(err.message, /connection refused by http:\/\/127\.0\.0\.1:\d+ .*check s3\.endpoint/);
    assert.equal(err.message.includes('\n'), false);
    assert.equal(err.retryable, true);
    const direct = await catalogOn(`s3://${b}/wh`, undefined, dir);
    assert.deepEqual(plain(await readTableRows(direct, ID)), rows(0, 10));
  });

  describe('bad settings: one line naming the setting, no stack, no secret', () => {
    let dir: string;
    let bucketName: string;
    before(async () => {
      dir = localDir();
      bucketName = await bucket('cli');
      writeFileSync(path.join(dir, 'schema.json'), JSON.stringify({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }] }));
    });
    const floe = async (env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      try {
        const r = await execFileP(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--catalog', `sqlite:${path.join(dir, 'catalog.db')}`, ...args], { env: { ...process.env, ...env } });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (e) {
        const x = e as { code: number; stdout: string; stderr: string };
        return { code: x.code, stdout: x.stdout, stderr: x.stderr };
      }
    };
    const good = (): Record<string, string> => ({
      FLOE_S3_ENDPOINT: server.endpoint, FLOE_S3_PATH_STYLE_ACCESS: 'true', FLOE_S3_ACCESS_KEY_ID: server.accessKeyId,
      FLOE_S3_SECRET_ACCESS_KEY: server.secretAccessKey, FLOE_S3_RETRY_NUM_RETRIES: '1', FLOE_S3_RETRY_MIN_WAIT_MS: '10',
    });
    const SECRET = 'not-the-secret-8f3a2c';
    const cases: [string, () => Record<string, string>, () => string, RegExp][] = [
      ['wrong endpoint', () => ({ ...good(), FLOE_S3_ENDPOINT: 'http://127.0.0.1:1' }), () => `s3://${bucketName}/a`, /connection refused .*check s3\.endpoint/],
      ['endpoint not a URL', () => ({ ...good(), FLOE_S3_ENDPOINT: 'localhost:9000' }), () => `s3://${bucketName}/b`, /s3\.endpoint: 'localhost:9000' must start with http/],
      ['wrong secret', () => ({ ...good(), FLOE_S3_SECRET_ACCESS_KEY: SECRET }), () => `s3://${bucketName}/c`, /rejected the request signature \(check s3\.secret-access-key/],
      ['unknown access key', () => ({ ...good(), FLOE_S3_ACCESS_KEY_ID: 'nobody', FLOE_S3_SECRET_ACCESS_KEY: SECRET }), () => `s3://${bucketName}/d`, /access key|access denied/i],
      ['missing bucket', good, () => 's3://no-such-bucket-floe/e', /bucket does not exist .*check the warehouse/],
      ['half the credentials', () => ({ ...good(), FLOE_S3_SECRET_ACCESS_KEY: '' }), () => `s3://${bucketName}/f`, /set both s3\.access-key-id and s3\.secret-access-key/],
    ];
    for (const [name, env, warehouse, message] of cases) {
      test(name, async () => {
        const ns = `n${Math.random().toString(36).slice(2, 8)}`;
        await floe(good(), '--warehouse', warehouse(), 'namespace', 'create', ns);
        const r = await floe(env(), '--warehouse', warehouse(), 'table', 'create', `${ns}.t`, '--schema', path.join(dir, 'schema.json'));
        assert.notEqual(r.code, 0, r.stdout);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0]!, message);
        assert.doesNotMatch(r.stderr, /\bat .*\.(ts|js):\d+/, 'no stack');
        assert.ok(!r.stderr.includes(SECRET) && !r.stderr.includes(server.secretAccessKey), 'no secret');
      });
    }
  });
});
