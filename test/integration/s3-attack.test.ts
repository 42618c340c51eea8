// floe's S3 support attacked as a careless user, a hostile input and a failing machine would:
// keys with every awkward character (SigV4 encoding, XML listings, DeleteObjects bodies),
// identity partitions on such strings read back by value by floe, DuckDB, pyiceberg, Spark, Trino,
// sizes at the multipart boundaries, the same objects spelled s3:// and s3a://, tables whose
// locations share a string prefix (purge and orphan removal never cross), objects replaced
// or deleted under a reader, a bucket that vanishes, and settings that must fail in one line
// without a secret (also under --verbose). Each test works in a fresh bucket of scripts/s3.sh's
// shared server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { openCatalog } from '../../catalog/index.ts';
import { removeOrphanFiles } from '../../compaction/remove-orphans.ts';
import { FileIOError, NotFoundError, ValidationError } from '../../src/errors.ts';
import { S3FileIO } from '../../src/io/s3-file-io.ts';
import { s3Settings } from '../../src/io/s3-settings.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { APPEND_WORKER_SCHEMA, runAppendWorker } from '../support/append-worker.ts';
import { postgresUnavailable, testDatabase } from '../support/postgres.ts';
import { insertTableAt } from '../support/legacy-nested-table.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT, ReaderServer, TRINO_SKIPPED, readersUnavailable, type ReaderCatalog } from '../support/readers.ts';
import type { TestWarehouse } from '../support/warehouse.ts';
import { emptyAndDeleteBucket, ensureS3, freshBucket, s3Client, type S3Server } from '../support/s3.ts';

const MIB = 1024 * 1024;
const execFileP = promisify(execFile);

function props(server: S3Server, extra: Record<string, string> = {}): Record<string, string> {
  return {
    's3.endpoint': server.endpoint, 's3.path-style-access': 'true', 's3.region': server.region,
    's3.access-key-id': server.accessKeyId, 's3.secret-access-key': server.secretAccessKey,
    's3.retry.min-wait-ms': '20', 's3.retry.max-wait-ms': '200', 's3.multipart.part-size-bytes': String(5 * MIB),
    ...extra,
  };
}

/** Key segments S3 clients get wrong: SigV4 canonical-URI encoding, XML bodies and listings. */
const ODD_SEGMENTS = [
  'a b', 'p%25q', 'p%q', 'plus+x', 'eq=x', 'hash#x', 'q?x=1&y', 'ünïcødé', '日本語', 'emoji😀',
  'quote\'"', 'amp&lt<>', 'tilde~*()!', 'semi;colon,comma', 'trailing space ', 'x'.repeat(900), 'ctl\u0001x',
];

const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);
const patterned = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 31 + seed + (i >> 11)) & 0xff);

describe('S3 under attack', () => {
  let server: S3Server;
  const buckets: string[] = [];
  const dirs: string[] = [];
  const catalogs: Catalog[] = [];
  const ios: S3FileIO[] = [];

  before(async () => { server = await ensureS3(); });
  after(async () => {
    for (const c of catalogs) await c.close().catch(() => undefined);
    for (const io of ios) io.destroy();
    for (const b of buckets) await emptyAndDeleteBucket(server, b).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const bucket = async (prefix: string): Promise<string> => { const b = await freshBucket(server, prefix); buckets.push(b); return b; };
  const localDir = (): string => { const d = mkdtempSync(path.join(os.tmpdir(), 'floe-s3-attack-')); dirs.push(d); return d; };
  const s3io = (extra: Record<string, string> = {}): S3FileIO => { const io = new S3FileIO(s3Settings(props(server, extra))); ios.push(io); return io; };
  const catalogOn = async (warehouse: string, dir = localDir()): Promise<Catalog> => {
    const c = await openCatalog({ warehouse, uri: `sqlite:${path.join(dir, 'catalog.db')}`, properties: props(server) });
    catalogs.push(c);
    return c;
  };

  test('odd keys (spaces, %, +, =, #, ?, unicode, quotes, a control character, 900 characters): written, read whole and by range, listed and deleted as they are', async () => {
    const b = await bucket('odd-keys');
    const io = s3io();
    const uris = ODD_SEGMENTS.map((s) => `s3://${b}/wh/t/data/${s}/f.bin`);
    for (const [i, uri] of uris.entries()) {
      await io.writeNew(uri, bytesOf(ODD_SEGMENTS[i]!));
      assert.equal(new TextDecoder().decode(await io.read(uri)), ODD_SEGMENTS[i], uri);
      const blob = await io.openBlob(uri);
      assert.deepEqual(new Uint8Array(await blob.slice(1, 4).arrayBuffer()), bytesOf(ODD_SEGMENTS[i]!).subarray(1, 4), uri);
    }
    // The listing names every object exactly as written (a key XML cannot carry came back as
    // U+FFFD before listings were url-encoded), so each listed uri reads.
    const listed = (await io.list(`s3://${b}/wh/t`)).map((f) => f.uri).sort();
    assert.deepEqual(listed, [...uris].sort());
    // One DeleteObjects batch holds them all: a key the XML body cannot carry made the server
    // refuse the whole batch, and every other key stayed.
    assert.deepEqual(await io.deleteMany(listed), []);
    assert.deepEqual(await io.list(`s3://${b}/wh/t`), []);
  });

  test('stale multipart uploads under odd keys are found and aborted', async () => {
    const b = await bucket('odd-uploads');
    const io = s3io();
    for (const s of ['a b+c%25', 'ctl\u0001x', 'ü']) {
      const out = await io.createNew(`s3://${b}/t/data/${s}/killed.parquet`);
      await out.write(new Uint8Array(5 * MIB));
    }
    assert.equal(await io.abortStaleUploads(`s3://${b}/t`, Date.now() + 60_000), 3);
    assert.equal(await io.abortStaleUploads(`s3://${b}/t`, Date.now() + 60_000), 0, 'none left open');
  });

  test('multipart boundaries: empty, one byte under/at/over the threshold, exactly one part, a part size no chunk size divides; streamed and whole', async () => {
    const b = await bucket('boundaries');
    const part = 5 * MIB;
    const io = s3io({ 's3.multipart.threshold': '1' });
    const io15 = s3io(); // Java's default threshold 1.5
    const sizes = [0, 1, part - 1, part, part + 1, Math.floor(part * 1.5) - 1, Math.floor(part * 1.5), 2 * part, 2 * part + 3];
    for (const [n, size] of sizes.entries()) {
      const data = patterned(size, n);
      for (const [label, w] of [['t1', io], ['t15', io15]] as const) {
        const whole = `s3://${b}/${label}/whole-${size}`;
        await w.writeNew(whole, data);
        assert.deepEqual(await w.read(whole), data, whole);
        // Streamed in chunks of 1 MiB + 7 bytes: parts never line up with chunks.
        const streamed = `s3://${b}/${label}/streamed-${size}`;
        const out = await w.createNew(streamed);
        for (let off = 0; off < size; off += MIB + 7) await out.write(data.subarray(off, Math.min(size, off + MIB + 7)));
        assert.equal(await out.close(), size);
        assert.equal((await w.head(streamed))?.size, size);
        assert.deepEqual(await w.read(streamed), data, streamed);
        const blob = await w.openBlob(streamed);
        assert.equal(blob.size, size);
        if (size > 10) assert.deepEqual(new Uint8Array(await blob.slice(-10).arrayBuffer()), data.subarray(size - 10), `${streamed} tail`);
      }
    }
    assert.equal((await s3Client(server).send(new (await import('@aws-sdk/client-s3')).ListMultipartUploadsCommand({ Bucket: b }))).Uploads?.length ?? 0, 0);
  });

  test('an object replaced under an open reader fails loudly naming the file; a deleted one is NotFound', async () => {
    const b = await bucket('replaced');
    const io = s3io();
    const uri = `s3://${b}/t/data/a b%.parquet`;
    await io.writeNew(uri, patterned(1000, 1));
    const blob = await io.openBlob(uri);
    assert.deepEqual(new Uint8Array(await blob.slice(0, 10).arrayBuffer()), patterned(10, 1));
    await io.delete(uri);
    await assert.rejects(blob.slice(0, 10).arrayBuffer(), (e: Error) => e instanceof NotFoundError && e.message.includes(uri) && !e.message.includes('\n'));
    await io.writeNew(uri, patterned(1000, 2));
    await assert.rejects(blob.slice(0, 10).arrayBuffer(), (e: Error) => e instanceof FileIOError && e.message.includes(uri) && /changed since it was opened/.test(e.message) && !e.message.includes('\n'));
  });

  test('s3a://, s3n:// and S3:// name the objects s3:// does: a table there overlapping another is refused; t2 beside t is not', async () => {
    const b = await bucket('schemes');
    const catalog = await catalogOn(`s3://${b}/wh`);
    await catalog.createNamespace(['ns']);
    const schema = schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'id', required: true, type: 'long' }] });
    await catalog.createTable({ namespace: ['ns'], name: 't' }, { schema, location: `s3://${b}/wh/t` });
    for (const [name, location] of [['inner', `s3a://${b}/wh/t/sub`], ['outer', `s3n://${b}/wh`], ['same', `S3A://${b}/wh/t/`]] as const) {
      await assert.rejects(catalog.createTable({ namespace: ['ns'], name }, { schema, location }),
        (e: Error) => e instanceof ValidationError && e.message.includes("overlaps table 'ns.t'"), location);
    }
    const t2 = await catalog.createTable({ namespace: ['ns'], name: 't2' }, { schema, location: `s3a://${b}/wh/t2` });
    assert.equal(t2.metadata.location, `s3a://${b}/wh/t2`, 'a location keeps the scheme it was given');
    await appendRecords(catalog, { namespace: ['ns'], name: 't2' }, [{ id: 7 }]);
    assert.deepEqual((await readTableRows(catalog, { namespace: ['ns'], name: 't2' })).map((r) => Number(r.id)), [7]);
  });

  test('purge of t and orphan removal on t never touch t2 (a shared string prefix) nor a stray file there', async () => {
    const b = await bucket('prefix');
    const catalog = await catalogOn(`s3://${b}/wh`);
    await catalog.createNamespace(['ns']);
    const schema = schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'id', required: true, type: 'long' }] });
    const t = { namespace: ['ns'], name: 't' };
    const t2 = { namespace: ['ns'], name: 't2' };
    await catalog.createTable(t, { schema });
    await catalog.createTable(t2, { schema });
    for (let i = 0; i < 3; i++) {
      await appendRecords(catalog, t, [{ id: i }]);
      await appendRecords(catalog, t2, [{ id: 100 + i }]);
    }
    const io = catalog.io;
    await io.writeNew(`s3://${b}/wh/t2/data/stray.parquet`, bytesOf('not ours'));
    await io.writeNew(`s3://${b}/wh/t-sibling.txt`, bytesOf('not a table'));
    const t2Files = (await io.list(`s3://${b}/wh/t2`)).map((f) => f.uri).sort();
    const orphans = await removeOrphanFiles(catalog, t, { nowMs: Date.now() + 60_000, olderThanMs: 0 });
    assert.equal(orphans.deletedFiles, 0);
    const dropped = await catalog.dropTable(t, { purge: true });
    assert.ok(dropped.deletedFiles > 0);
    assert.deepEqual(await io.list(`s3://${b}/wh/t`), [], 'everything of t is gone');
    assert.deepEqual((await io.list(`s3://${b}/wh/t2`)).map((f) => f.uri).sort(), t2Files, 't2 kept every file');
    assert.ok(await io.exists(`s3://${b}/wh/t-sibling.txt`));
    assert.deepEqual((await readTableRows(catalog, t2)).map((r) => Number(r.id)).sort(), [100, 101, 102]);
  });

  test('a table nested in t/data written as s3a:// (a Spark-made or older catalog): orphan removal and purge of t at s3:// leave its files (before: 5 live files deleted)', async () => {
    const b = await bucket('nested-s3a');
    const dir = localDir();
    const catalog = await catalogOn(`s3://${b}/wh`, dir);
    await catalog.createNamespace(['ns']);
    const schema = schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'id', required: true, type: 'long' }] });
    const outer = { namespace: ['ns'], name: 't' };
    const inner = { namespace: ['ns'], name: 'inner' };
    await catalog.createTable(outer, { schema });
    await appendRecords(catalog, outer, [{ id: 1 }]);
    await insertTableAt(catalog, path.join(dir, 'catalog.db'), inner, `s3a://${b}/wh/ns/t/data/inner`, schema);
    await appendRecords(catalog, inner, [{ id: 2 }, { id: 3 }]);
    const innerFiles = (await catalog.io.list(`s3://${b}/wh/ns/t/data/inner`)).map((f) => f.uri).sort();
    assert.ok(innerFiles.length >= 4, innerFiles.join(' '));
    const orphans = await removeOrphanFiles(catalog, outer, { nowMs: Date.now() + 60_000, olderThanMs: 0 });
    assert.equal(orphans.deletedFiles, 0, 'nothing of the inner table is an orphan of the outer one');
    await catalog.dropTable(outer, { purge: true });
    assert.deepEqual((await catalog.io.list(`s3://${b}/wh/ns/t/data/inner`)).map((f) => f.uri).sort(), innerFiles, 'purge spared the inner table');
    assert.deepEqual((await readTableRows(catalog, inner)).map((r) => Number(r.id)).sort(), [2, 3]);
  });

  test('a table at a location with odd characters (space, %, +, #, unicode): append, orphan removal (a listing under that prefix), read, purge', async () => {
    const b = await bucket('odd-location');
    const catalog = await catalogOn(`s3://${b}/wh`);
    await catalog.createNamespace(['ns']);
    const schema = schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'id', required: true, type: 'long' }] });
    const id = { namespace: ['ns'], name: 't' };
    const location = `s3://${b}/wh/a b%25+#ü/t`;
    await catalog.createTable(id, { schema, location });
    await appendRecords(catalog, id, [{ id: 1 }]);
    await appendRecords(catalog, id, [{ id: 2 }]);
    const stray = `${location}/data/stray.parquet`;
    await catalog.io.writeNew(stray, bytesOf('stray'));
    const orphans = await removeOrphanFiles(catalog, id, { nowMs: Date.now() + 60_000, olderThanMs: 0 });
    assert.equal(orphans.deletedFiles, 1);
    assert.equal(await catalog.io.exists(stray), false);
    assert.deepEqual((await readTableRows(catalog, id)).map((r) => Number(r.id)).sort(), [1, 2]);
    await catalog.dropTable(id, { purge: true });
    assert.deepEqual(await catalog.io.list(`s3://${b}/wh`), []);
  });

  test('a partition value too long for an S3 key fails the append in one line naming the limit; no file, no snapshot left', async () => {
    const b = await bucket('long-part');
    const catalog = await catalogOn(`s3://${b}/wh`);
    await catalog.createNamespace(['ns']);
    const schema = schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'id', required: true, type: 'long' }, { id: 2, name: 'k', required: false, type: 'string' }] });
    const id = { namespace: ['ns'], name: 't' };
    await catalog.createTable(id, { schema, spec: parsePartitionExpression('k', schema) });
    await assert.rejects(appendRecords(catalog, id, [{ id: 1, k: '€'.repeat(400) }]), (e: Error) => e instanceof FileIOError
      && /the key is longer than .* allows \(S3: 1,024 bytes; .*truncate\(N, column\)/.test(e.message) && !e.message.includes('\n'));
    assert.equal((await catalog.loadTable(id)).metadata.snapshots.length, 0);
    assert.deepEqual(await catalog.io.list(`s3://${b}/wh/ns/t/data`), []);
  });

  describe('identity partitions on odd strings: floe, DuckDB, pyiceberg, Spark and Trino read every row by value', { skip: readersUnavailable() }, () => {
    const VALUES = ['a b', '50%', '50%25', 'a+b', 'k=v', '#hash', 'what?x=1', 'ünï/日本', '..', '.', 'a/../b', '', 'quote\'"', 'x'.repeat(300), null];
    const schema = schemaFromJson({ type: 'struct', fields: [
      { id: 1, name: 'id', required: true, type: 'long' }, { id: 2, name: 'k', required: false, type: 'string' },
    ] });
    const id = { namespace: ['ns'], name: 'odd' };
    let readers: ReaderServer;
    let reader: ReaderCatalog;
    let expected: { id: number; k: string | null }[];
    before(async () => {
      const b = await bucket('odd-parts');
      const dir = localDir();
      const catalog = await catalogOn(`s3://${b}/wh`, dir);
      await catalog.createNamespace(['ns']);
      await catalog.createTable(id, { schema, spec: parsePartitionExpression('k', schema) });
      expected = VALUES.flatMap((k, i) => [{ id: i * 10, k }, { id: i * 10 + 1, k }]);
      await appendRecords(catalog, id, expected.slice(0, 10));
      await appendRecords(catalog, id, expected.slice(10));
      reader = { kind: 'sqlite', db: path.join(dir, 'catalog.db'), warehouse: `s3://${b}/wh`, name: 'floe',
        s3: { endpoint: server.endpoint, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, region: server.region } };
      readers = new ReaderServer();
    });
    after(async () => { await readers?.close(); });
    const plain = (rs: readonly Record<string, unknown>[]): { id: number; k: unknown }[] => rs.map((r) => ({ id: Number(r.id), k: r.k ?? null })).sort((a, b) => a.id - b.id);

    test('floe reads them back, one file per value under a key that round-trips', async () => {
      const catalog = catalogs.at(-1)!;
      assert.deepEqual(plain(await readTableRows(catalog, id)), expected);
      const t = await catalog.loadTable(id);
      const listed = await catalog.io.list(`${t.metadata.location}/data`);
      assert.equal(listed.length, VALUES.length, listed.map((f) => f.uri).join(' '));
      for (const f of listed) assert.ok(await catalog.io.exists(f.uri), f.uri);
    });
    for (const r of ['duckdb', 'pyiceberg', 'spark', ...(TRINO_SKIPPED ? [] : ['trino' as const])] as const) {
      test(`${r} reads every row by value, and filters on the partition value`, async () => {
        assert.deepEqual(plain((await readers.read({ reader: r, catalog: reader, table: 'ns.odd' })).rows), expected);
        for (const k of ['50%', 'a b', 'a+b', '..', 'ünï/日本']) {
          const got = await readers.read({ reader: r, catalog: reader, table: 'ns.odd', filter: { column: 'k', op: '==', value: k } });
          assert.deepEqual(plain(got.rows), expected.filter((e) => e.k === k), `k == ${k}`);
        }
      });
    }
  });

  describe('the CLI: failures in one line, no secret even under --verbose', () => {
    const SECRET = 'wrong-secret-7c1e9d';
    let dir: string;
    let b: string;
    before(async () => {
      dir = localDir();
      b = await bucket('cli-attack');
      writeFileSync(path.join(dir, 'schema.json'), JSON.stringify({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }] }));
      writeFileSync(path.join(dir, 'rows.ndjson'), '{"id":1}\n{"id":2}\n');
    });
    const env = (over: Record<string, string> = {}): Record<string, string> => ({
      FLOE_S3_ENDPOINT: server.endpoint, FLOE_S3_PATH_STYLE_ACCESS: 'true', FLOE_S3_ACCESS_KEY_ID: server.accessKeyId,
      FLOE_S3_SECRET_ACCESS_KEY: server.secretAccessKey, FLOE_S3_RETRY_NUM_RETRIES: '1', FLOE_S3_RETRY_MIN_WAIT_MS: '10', FLOE_S3_RETRY_MAX_WAIT_MS: '20', ...over,
    });
    const floe = async (e: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      try {
        const r = await execFileP(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--catalog', `sqlite:${path.join(dir, 'catalog.db')}`, '--warehouse', `s3://${b}/wh`, ...args], { env: { ...process.env, ...e } });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (err) {
        const x = err as { code: number; stdout: string; stderr: string };
        return { code: x.code, stdout: x.stdout, stderr: x.stderr };
      }
    };
    /** floe's own lines on stderr (the SDK's Node-version notice aside). */
    const floeLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('floe:'));

    test('an https:// endpoint in front of a plain-HTTP server says so in one line', async () => {
      assert.equal((await floe(env(), 'namespace', 'create', 'tls')).code, 0);
      const r = await floe(env({ FLOE_S3_ENDPOINT: server.endpoint.replace('http://', 'https://') }), 'table', 'create', 'tls.t', '--schema', path.join(dir, 'schema.json'));
      assert.equal(r.code, 1);
      assert.deepEqual(floeLines(r.stderr), [`floe: cannot ListObjectsV2 s3://${b}/wh/tls/t/: TLS with ${server.endpoint.replace('http://', 'https://')} failed (is the server plain HTTP? then s3.endpoint must start with http://)`]);
    });

    test('an endpoint with the bucket in its path is refused naming the address to give', async () => {
      const r = await floe(env({ FLOE_S3_ENDPOINT: `${server.endpoint}/${b}` }), 'table', 'create', 'tls.u', '--schema', path.join(dir, 'schema.json'));
      assert.equal(r.code, 1);
      assert.match(floeLines(r.stderr)[0] ?? r.stderr, /s3\.endpoint: '.*' has a path .*give the server's address only/);
    });

    test('--verbose prints the stack of a failed S3 call but never the secret (wrong secret, TLS failure)', async () => {
      for (const over of [{ FLOE_S3_SECRET_ACCESS_KEY: SECRET } as Record<string, string>, { FLOE_S3_SECRET_ACCESS_KEY: SECRET, FLOE_S3_ENDPOINT: server.endpoint.replace('http://', 'https://') }]) {
        const r = await floe(env(over), '--verbose', '--conf', `s3.secret-access-key=${SECRET}`, 'table', 'create', 'tls.v', '--schema', path.join(dir, 'schema.json'));
        assert.equal(r.code, 1);
        assert.match(r.stderr, /FileIOError: cannot ListObjectsV2 .*\n\s+at /, 'a stack trace');
        assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), r.stderr);
        assert.ok(!r.stderr.includes(server.secretAccessKey), 'nor the real secret');
      }
    });

    test('a bucket deleted mid-run: the next append fails in one line naming the bucket problem; nothing half-committed', async () => {
      const b2 = await bucket('vanish');
      const catalog = await catalogOn(`s3://${b2}/wh`);
      await catalog.createNamespace(['ns']);
      const id = { namespace: ['ns'], name: 't' };
      await catalog.createTable(id, { schema: schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'id', required: true, type: 'long' }] }) });
      await appendRecords(catalog, id, [{ id: 1 }]);
      const before = (await catalog.loadTable(id)).metadataLocation;
      await emptyAndDeleteBucket(server, b2);
      await assert.rejects(appendRecords(catalog, id, [{ id: 2 }]), (e: Error) => e instanceof FileIOError
        && e.message.includes(`s3://${b2}/wh/ns/t/`) && /bucket does not exist/.test(e.message) && !e.message.includes('\n'));
      assert.equal(await (async () => { try { return (await catalog.loadTable(id)).metadataLocation; } catch { return before; } })(), before, 'the catalog still points at the last good metadata');
    });
  });

  describe('writer processes appending to one table on S3 at once: every row once', () => {
    const WORKERS = 3;
    const BATCHES = 6;
    const SIZE = 20;
    const run = async (catalogUri: string, label: string): Promise<void> => {
      const b = await bucket(`conc-${label}`);
      const warehouse = `s3://${b}/wh`;
      const catalog = await openCatalog({ warehouse, uri: catalogUri, properties: props(server) });
      catalogs.push(catalog);
      await catalog.createNamespace(['conc']);
      await catalog.createTable({ namespace: ['conc'], name: 'appends' }, { schema: APPEND_WORKER_SCHEMA });
      const env = {
        FLOE_TEST_CATALOG_URI: catalogUri, FLOE_S3_ENDPOINT: server.endpoint, FLOE_S3_PATH_STYLE_ACCESS: 'true', FLOE_S3_REGION: server.region,
        FLOE_S3_ACCESS_KEY_ID: server.accessKeyId, FLOE_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      };
      const wh = { dir: warehouse } as unknown as TestWarehouse;
      const runs = await Promise.all(Array.from({ length: WORKERS }, (_, w) => runAppendWorker(wh, 'conc.appends', w, BATCHES, SIZE, 0, undefined, env)));
      for (const [w, r] of runs.entries()) assert.deepEqual([r.code, r.committed], [0, Array.from({ length: BATCHES }, (_, i) => i)], `worker ${w}: ${r.stderr.slice(-2000)}`);
      const rows = (await readTableRows(catalog, { namespace: ['conc'], name: 'appends' })).map((r) => ({ id: Number(r.id), payload: r.payload })).sort((x, y) => x.id - y.id);
      const want = [];
      for (let w = 0; w < WORKERS; w++) for (let bt = 0; bt < BATCHES; bt++) for (let i = 0; i < SIZE; i++) want.push({ id: w * 1_000_000 + bt * 1000 + i, payload: `w${w}-b${bt}-r${i}` });
      assert.deepEqual(rows, want.sort((x, y) => x.id - y.id));
      assert.equal((await catalog.loadTable({ namespace: ['conc'], name: 'appends' })).metadata.snapshots.length, WORKERS * BATCHES, 'one snapshot per batch');
    };
    test('SQLite file catalog', async () => { await run(`sqlite:${path.join(localDir(), 'catalog.db')}`, 'sqlite'); });
    test('PostgreSQL catalog', async (t) => {
      const skip = await postgresUnavailable();
      if (skip) { t.skip(skip); return; }
      const db = await testDatabase('floe_s3conc');
      try { await run(db.uri, 'pg'); } finally { for (const c of catalogs.splice(-1)) await c.close(); await db.drop(); }
    });
  });
});
