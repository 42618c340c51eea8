// The REST catalog client against Apache Iceberg's own REST server (scripts/rest.sh,
// RESTCatalogServer on a JdbcCatalog over SQLite): the shared conformance suite, an append read
// back by floe and by pyiceberg's RestCatalog, 8 writer processes × 100 appends on one table
// (FLOE_REST_APPENDS sets the appends per process), a 409 retried by the core's loop, and
// one-line errors for a bad URI, a 401 and refused client credentials.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { openCatalog } from '../../catalog/index.ts';
import { RestCatalog } from '../../catalog/rest/rest-catalog.ts';
import { CommitConflictError, CommitStateUnknownError, ValidationError } from '../../src/errors.ts';
import { LocalFileIO } from '../../src/io/local-file-io.ts';
import { ancestorsOf } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { runCatalogConformance } from '../catalog-conformance.ts';
import { APPEND_WORKER_SCHEMA, assertEveryAppendOnce, runAppendWorker } from '../support/append-worker.ts';
import { readTableRows } from '../support/read-table.ts';
import { VENV_PYTHON } from '../support/readers.ts';
import { ensureRestCatalog, openRestCatalog, resetRestCatalog, type RestServer } from '../support/rest.ts';

const execFileP = promisify(execFile);
let server: RestServer | undefined;
const getServer = async (): Promise<RestServer> => (server ??= await ensureRestCatalog());

const SERVER_LEFTOVER = 'Java\'s JdbcCatalog leaves the losing attempt\'s metadata file in metadata/ (unreferenced; floe remove-orphans deletes it)';

runCatalogConformance('REST catalog (Iceberg RESTCatalogServer, JdbcCatalog on SQLite)', async () => {
  const s = await getServer();
  await resetRestCatalog(s);
  const catalog = await openRestCatalog(s);
  return { catalog, async cleanup() { await catalog.close(); await resetRestCatalog(s); } };
}, {
  namespaceProperties: (ns, given) => ({ ...given, location: `${server!.warehouseUri}/${ns.join('/')}` }),
  createdTableProperties: { 'write.parquet.compression-codec': 'zstd' },
  loserMetadataFilesRemain: SERVER_LEFTOVER,
});

const ROW_SCHEMA = APPEND_WORKER_SCHEMA;

describe('REST catalog: data through the service', () => {
  test('append round trip: floe and pyiceberg\'s RestCatalog read the same rows', async () => {
    const s = await getServer();
    await resetRestCatalog(s);
    const c = await openCatalog({ warehouse: '', uri: `rest+${s.uri}` });
    try {
      await c.createNamespace(['rt']);
      const id = { namespace: ['rt'], name: 'events' };
      await c.createTable(id, { schema: ROW_SCHEMA });
      const batch1 = [{ id: 1n, worker: 0, batch: 0, payload: 'a' }, { id: 9007199254740993n, worker: 0, batch: 0, payload: 'ünïcode' }];
      const batch2 = [{ id: -5n, worker: 1, batch: 1, payload: '' }];
      await appendRecords(c, id, batch1);
      await appendRecords(c, id, batch2);
      const t = await c.loadTable(id);
      assert.ok(t.metadata.location.startsWith(`${s.warehouseUri}/rt/events`), t.metadata.location);
      assert.equal([...ancestorsOf(t.metadata, t.metadata.currentSnapshotId ?? undefined)].length, 2);
      const byId = (rows: Record<string, unknown>[]): string[] => rows.map((r) => `${String(r.id)}|${String(r.worker)}|${String(r.batch)}|${String(r.payload)}`).sort();
      const expected = ['-5|1|1|', '1|0|0|a', '9007199254740993|0|0|ünïcode'];
      assert.deepEqual(byId(await readTableRows(c, id)), expected);

      const py = [
        'import json, sys',
        'from pyiceberg.catalog.rest import RestCatalog',
        'cat = RestCatalog("rest", uri=sys.argv[1])',
        'rows = cat.load_table("rt.events").scan().to_arrow().to_pylist()',
        'print(json.dumps(sorted(f"{r[\'id\']}|{r[\'worker\']}|{r[\'batch\']}|{r[\'payload\']}" for r in rows)))',
      ].join('\n');
      const { stdout } = await execFileP(VENV_PYTHON, ['-c', py, s.uri], { timeout: 120_000 });
      assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), expected);
    } finally {
      await c.close();
    }
  });

  const workers = 8;
  const appends = Number(process.env.FLOE_REST_APPENDS ?? 100);
  const size = 10;
  test(`${workers} processes × ${appends} appends through the service → ${workers * appends} snapshots, every row exactly once`, async (t) => {
    const s = await getServer();
    await resetRestCatalog(s);
    const c = await openRestCatalog(s);
    try {
      await c.createNamespace(['conc']);
      const id = { namespace: ['conc'], name: 'appends' };
      await c.createTable(id, { schema: ROW_SCHEMA, properties: { 'commit.retry.num-retries': '200', 'commit.retry.min-wait-ms': '5', 'commit.retry.max-wait-ms': '500' } });
      const started = Date.now();
      const runs = await Promise.all(Array.from({ length: workers }, (_, w) =>
        runAppendWorker({ dir: `rest+${s.uri}` } as Parameters<typeof runAppendWorker>[0], 'conc.appends', w, appends, size)));
      const seconds = (Date.now() - started) / 1000;
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      for (const r of runs) assert.deepEqual(r.committed, Array.from({ length: appends }, (_, b) => b));
      t.diagnostic(`rest: ${workers} processes × ${appends} appends in ${seconds.toFixed(1)} s (${((workers * appends) / seconds).toFixed(1)} commits/s)`);
      // Exactly one snapshot per (worker, batch), none other, and every row exactly once by value.
      await assertEveryAppendOnce(c, id, workers, appends, size);
    } finally {
      await c.close();
    }
  });

  test('a 409 from the server is a CommitConflictError the core retries on a reloaded table', async () => {
    const s = await getServer();
    await resetRestCatalog(s);
    const c = await openRestCatalog(s);
    const other = await openRestCatalog(s);
    await c.createNamespace(['r']);
    const id = { namespace: ['r'], name: 't' };
    await c.createTable(id, { schema: ROW_SCHEMA });
    // The first commit attempt of `c` is preceded by another writer's commit: the server answers
    // 409 to the stale requirements, the core reloads and commits again.
    const seen: unknown[] = [];
    let interfered = false;
    const racing: Catalog = Object.create(c) as Catalog;
    racing.commitTable = async (tid, reqs, ups, opts) => {
      if (!interfered) {
        interfered = true;
        await appendRecords(other, id, [{ id: 100n, worker: 9, batch: 0, payload: 'other' }]);
      }
      try {
        return await c.commitTable(tid, reqs, ups, opts);
      } catch (err) {
        seen.push(err);
        throw err;
      }
    };
    await appendRecords(racing, id, [{ id: 1n, worker: 0, batch: 0, payload: 'mine' }]);
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof CommitConflictError, String(seen[0]));
    assert.equal((seen[0] as CommitConflictError).retryable, true);
    assert.match((seen[0] as Error).message, /commit to 'r\.t' failed: requirement failed: branch 'main' moved: expected no snapshot, found \d+/);
    const rows = (await readTableRows(c, id)).map((r) => `${String(r.id)}:${String(r.payload)}`).sort();
    assert.deepEqual(rows, ['100:other', '1:mine']);
  });
});

describe('REST catalog: lost answers on commit', () => {
  test('the server commits but its answer is lost (503 / reset): the core finds its snapshot, no row twice', async () => {
    const s = await getServer();
    await resetRestCatalog(s);
    const direct = await openRestCatalog(s);
    await direct.createNamespace(['lost']);
    const id = { namespace: ['lost'], name: 't' };
    await direct.createTable(id, { schema: ROW_SCHEMA });
    // A proxy in front of the real server: the first commit of each mode reaches the server
    // (and lands there), then the client gets a 503 or a dropped connection instead.
    const modes: ('503' | 'reset')[] = ['503', 'reset'];
    let lose: '503' | 'reset' | undefined;
    let lostCommits = 0;
    const proxy = await fakeServer((req, body, res) => {
      void (async () => {
        const upstream = await fetch(`${s.uri}${req.url}`, { method: req.method ?? 'GET', headers: { 'Content-Type': 'application/json' }, ...(body ? { body } : {}) });
        const text = await upstream.text();
        const isCommit = req.method === 'POST' && req.url === '/v1/namespaces/lost/tables/t';
        if (isCommit && lose !== undefined && upstream.status === 200) {
          lostCommits++;
          const mode = lose;
          lose = undefined;
          if (mode === 'reset') { req.socket.destroy(); return; }
          json(res, 503, { error: { message: 'upstream timed out', type: 'ServiceUnavailableException', code: 503 } });
          return;
        }
        res.writeHead(upstream.status, { 'Content-Type': 'application/json' }).end(text);
      })();
    });
    try {
      const c = await RestCatalog.open({ uri: proxy.uri, io: new LocalFileIO() });
      for (const [i, mode] of modes.entries()) {
        lose = mode;
        await appendRecords(c, id, [{ id: BigInt(i), worker: 0, batch: i, payload: mode }]);
      }
      assert.equal(lostCommits, 2);
      const t = await direct.loadTable(id);
      assert.equal([...ancestorsOf(t.metadata, t.metadata.currentSnapshotId ?? undefined)].length, 2);
      assert.deepEqual((await readTableRows(direct, id)).map((r) => `${String(r.id)}:${String(r.payload)}`).sort(), ['0:503', '1:reset']);
    } finally {
      await proxy.close();
    }
  });
});

/** A stand-in server for what Iceberg's test server cannot do: refuse tokens, issue them, fail. */
async function fakeServer(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ uri: string; close(): Promise<void> }> {
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return { uri: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
};

describe('REST catalog: errors and auth', () => {
  test('an unreachable URI fails with one line naming it', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = await fakeServer((_req, _body, res) => json(res, 500, {}));
    const closedUri = probe.uri;
    await probe.close();
    const e = await openCatalog({ warehouse: '', uri: `rest+${closedUri}` }).then(() => undefined, (err: unknown) => err as Error);
    assert.ok(e, 'expected a failure');
    assert.equal(e.message, `REST catalog ${closedUri}: GET /v1/config got no answer: ECONNREFUSED (connect ECONNREFUSED ${closedUri.slice('http://'.length)})`);
    assert.doesNotMatch(e.message, /\n/);
    await assert.rejects(openCatalog({ warehouse: '', uri: 'rest+ftp://x' }), /unsupported catalog URI 'rest\+ftp:\/\/x'/);
  });

  test('401 is a one-line ValidationError that names the setting and never the token', async () => {
    const fake = await fakeServer((_req, _body, res) => json(res, 401, { error: { message: 'Not authorized', type: 'NotAuthorizedException', code: 401 } }));
    try {
      const e = await RestCatalog.open({ uri: fake.uri, io: new LocalFileIO(), auth: { token: 's3cr3t-token' } }).then(() => undefined, (err: unknown) => err as Error);
      assert.ok(e instanceof ValidationError, String(e));
      assert.equal(e.message, `REST catalog ${fake.uri}: 401 unauthorized (check the bearer token: FLOE_REST_TOKEN): Not authorized`);
    } finally {
      await fake.close();
    }
  });

  test('OAuth2 client credentials: token fetched, sent as bearer, refreshed before expiry; a refused secret never shows', async () => {
    let expiresIn = 3600;
    let issued = 0;
    const seenAuth: string[] = [];
    const fake = await fakeServer((req, body, res) => {
      if (req.url === '/v1/oauth/tokens') {
        const form = new URLSearchParams(body);
        if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== 'floe' || form.get('client_secret') !== 'right') {
          json(res, 401, { error: 'invalid_client', error_description: 'bad client credentials' });
          return;
        }
        issued++;
        json(res, 200, { access_token: `tok-${issued}`, token_type: 'bearer', expires_in: expiresIn });
        return;
      }
      seenAuth.push(req.headers.authorization ?? '');
      if (!/^Bearer tok-\d+$/.test(req.headers.authorization ?? '')) { json(res, 401, { error: { message: 'no', type: 'NotAuthorizedException', code: 401 } }); return; }
      if (req.url?.startsWith('/v1/config')) { json(res, 200, { defaults: {}, overrides: { prefix: 'cat1' } }); return; }
      if (req.url === '/v1/cat1/namespaces') { json(res, 200, { namespaces: [['a']] }); return; }
      json(res, 404, { error: { message: 'nope', type: 'NoSuchNamespaceException', code: 404 } });
    });
    try {
      const c = await RestCatalog.open({ uri: fake.uri, io: new LocalFileIO(), auth: { credential: 'floe:right' } });
      assert.deepEqual(await c.listNamespaces(), [['a']]); // the prefix from /v1/config is used
      assert.equal(issued, 1);
      assert.deepEqual(seenAuth, ['Bearer tok-1', 'Bearer tok-1']);
      // A token within a minute of expiry is replaced before the next request.
      expiresIn = 30;
      const short = await RestCatalog.open({ uri: fake.uri, io: new LocalFileIO(), auth: { credential: 'floe:right' } });
      await short.listNamespaces();
      assert.equal(issued, 3);
      assert.deepEqual(seenAuth.slice(2), ['Bearer tok-2', 'Bearer tok-3']);

      const e = await RestCatalog.open({ uri: fake.uri, io: new LocalFileIO(), auth: { credential: 'floe:wrong-secret' } }).then(() => undefined, (err: unknown) => err as Error);
      assert.ok(e instanceof ValidationError, String(e));
      assert.equal(e.message, `REST catalog ${fake.uri}: token endpoint ${fake.uri}/v1/oauth/tokens refused the client credentials (FLOE_REST_CREDENTIAL): invalid_client: bad client credentials`);
      assert.doesNotMatch(e.message, /wrong-secret/);
    } finally {
      await fake.close();
    }
  });

  test('a 5xx on commit is commit-state-unknown, a 409 a retryable conflict', async () => {
    let commitStatus = 503;
    const metadata = {
      'format-version': 2, 'table-uuid': '11111111-1111-1111-1111-111111111111', location: 'file:///tmp/x', 'last-sequence-number': 0,
      'last-updated-ms': 1, 'last-column-id': 1, 'current-schema-id': 0,
      schemas: [{ type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', required: false, type: 'long' }] }],
      'default-spec-id': 0, 'partition-specs': [{ 'spec-id': 0, fields: [] }], 'last-partition-id': 999,
      'default-sort-order-id': 0, 'sort-orders': [{ 'order-id': 0, fields: [] }], properties: {}, 'current-snapshot-id': -1,
      refs: {}, snapshots: [], 'snapshot-log': [], 'metadata-log': [],
    };
    const fake = await fakeServer((req, _body, res) => {
      if (req.url?.startsWith('/v1/config')) { json(res, 200, { defaults: {}, overrides: {} }); return; }
      if (req.method === 'POST' && req.url === '/v1/namespaces/db/tables/t') {
        json(res, commitStatus, { error: { message: 'boom', type: commitStatus === 409 ? 'CommitFailedException' : 'ServiceUnavailableException', code: commitStatus } });
        return;
      }
      if (req.method === 'GET' && req.url === '/v1/namespaces/db/tables/t') { json(res, 200, { 'metadata-location': 'file:/tmp/x/metadata/00000-a.metadata.json', metadata }); return; }
      json(res, 404, { error: { message: 'nope', type: 'NoSuchTableException', code: 404 } });
    });
    try {
      const c = await RestCatalog.open({ uri: fake.uri, io: new LocalFileIO() });
      const t = await c.loadTable({ namespace: ['db'], name: 't' });
      assert.equal(t.metadataLocation, 'file:///tmp/x/metadata/00000-a.metadata.json');
      const commit = (): Promise<unknown> => c.commitTable({ namespace: ['db'], name: 't' }, [], [{ action: 'set-properties', updates: { a: 'b' } }]);
      await assert.rejects(commit(), (e: unknown) => e instanceof CommitStateUnknownError && /commit to 'db\.t' may or may not have landed: REST catalog answered 503 \(ServiceUnavailableException: boom\)/.test(e.message));
      commitStatus = 409;
      await assert.rejects(commit(), (e: unknown) => e instanceof CommitConflictError && e.retryable && /commit to 'db\.t' failed: boom/.test(e.message));
    } finally {
      await fake.close();
    }
  });
});

describe('REST catalog: parsed metadata kept by location', () => {
  test('loading the same metadata version twice parses it once; a new version is parsed', async () => {
    const metadata = {
      'format-version': 2, 'table-uuid': '22222222-2222-2222-2222-222222222222', location: 'file:///tmp/y', 'last-sequence-number': 0,
      'last-updated-ms': 1, 'last-column-id': 1, 'current-schema-id': 0,
      schemas: [{ type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', required: false, type: 'long' }] }],
      'default-spec-id': 0, 'partition-specs': [{ 'spec-id': 0, fields: [] }], 'last-partition-id': 999,
      'default-sort-order-id': 0, 'sort-orders': [{ 'order-id': 0, fields: [] }], properties: {}, 'current-snapshot-id': -1,
      refs: {}, snapshots: [], 'snapshot-log': [], 'metadata-log': [],
    };
    let version = 0;
    const fake = await fakeServer((req, _body, res) => {
      if (req.url?.startsWith('/v1/config')) { json(res, 200, { defaults: {}, overrides: {} }); return; }
      json(res, 200, { 'metadata-location': `file:/tmp/y/metadata/0000${version}-a.metadata.json`, metadata: { ...metadata, 'last-updated-ms': 1 + version } });
    });
    try {
      const c = await RestCatalog.open({ uri: fake.uri, io: new LocalFileIO() });
      const id = { namespace: ['db'], name: 'y' };
      const a = await c.loadTable(id);
      const b = await c.loadTable(id);
      // Metadata files never change: the second load reuses the first parse.
      assert.equal(b.metadata, a.metadata);
      version = 1;
      const next = await c.loadTable(id);
      assert.notEqual(next.metadata, a.metadata);
      assert.equal(next.metadataLocation, 'file:///tmp/y/metadata/00001-a.metadata.json');
      assert.equal(next.metadata.lastUpdatedMs, 2);
    } finally {
      await fake.close();
    }
  });
});
