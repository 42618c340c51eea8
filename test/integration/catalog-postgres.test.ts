// The SQL catalog on a real PostgreSQL server (scripts/pg.sh): the shared conformance suite
// (each test its own database), the JdbcCatalog DDL, URIs and one-line connection errors that
// never show the password, a connection lost during the commit (state unknown, files kept),
// the races of concurrent creates, and 8 writer processes appending to one table.
//
// FLOE_PG_APPENDS sets the appends per process of the 8-process test (default 100: issue 11's
// 800 snapshots, ~30 s; smaller for a quick local run).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openCatalog } from '../../catalog/index.ts';
import { parsePostgresUri, redactUri } from '../../catalog/sql/postgres-driver.ts';
import {
  AlreadyExistsError, CommitStateUnknownError, FileIOError, type FloeError, ValidationError,
} from '../../src/errors.ts';
import { pathToUri, uriToPath } from '../../src/io/local-file-io.ts';
import { Schema } from '../../src/spec/schema.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { runCatalogConformance } from '../catalog-conformance.ts';
import { APPEND_WORKER_SCHEMA, assertEveryAppendOnce, expectedAppendWorkerRows, runAppendWorker } from '../support/append-worker.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT, VENV_PYTHON, readersUnavailable } from '../support/readers.ts';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { adminQuery, ensurePostgres, postgresUnavailable, testDatabase, type TestDatabase } from '../support/postgres.ts';

const skip = await postgresUnavailable();
const schema = new Schema(0, [{ id: 1, name: 'id', required: true, type: { kind: 'long' } }]);
const T: TableIdentifier = { namespace: ['db'], name: 't' };

interface Env { db: TestDatabase; dir: string; cleanup(): Promise<void> }

/** A fresh database and warehouse folder. */
async function freshEnv(): Promise<Env> {
  const db = await testDatabase();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-pg-catalog-'));
  return {
    db, dir,
    async cleanup() {
      await db.drop();
      if (!process.env.FLOE_KEEP_TEST_DATA) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function openPg(env: Env, name = 'floe'): Promise<Catalog> {
  return openCatalog({ warehouse: env.dir, uri: env.db.uri, name });
}

async function inEnv(fn: (env: Env) => Promise<void>): Promise<void> {
  const env = await freshEnv();
  try {
    await fn(env);
  } finally {
    await env.cleanup();
  }
}

async function settle<T>(ps: Promise<T>[]): Promise<{ ok: T[]; errors: unknown[] }> {
  const res = await Promise.allSettled(ps);
  return {
    ok: res.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    errors: res.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
  };
}

if (skip) {
  describe('catalog conformance: postgres SqlCatalog', { skip }, () => undefined);
} else {
  runCatalogConformance('postgres SqlCatalog', async () => {
    const env = await freshEnv();
    const catalog = await openPg(env, 'test');
    return {
      catalog,
      async cleanup() {
        await catalog.close();
        await env.cleanup();
      },
    };
  });
}

describe('postgres SqlCatalog specifics', { skip }, () => {
  test('DDL: exactly the JdbcCatalog (schema V1) / pyiceberg columns', () => inEnv(async (env) => {
    const c = await openPg(env);
    await c.close();
    const client = new pg.Client({ connectionString: env.db.uri });
    await client.connect();
    try {
      const cols = await client.query<{ table_name: string; column_name: string; is_nullable: string; data_type: string; len: number | null }>(
        `SELECT table_name, column_name, is_nullable, data_type, character_maximum_length AS len FROM information_schema.columns
         WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`);
      const show = cols.rows.map((r) => `${r.table_name}.${r.column_name} ${r.data_type}(${r.len}) ${r.is_nullable === 'NO' ? 'NOT NULL' : 'NULL'}`);
      assert.deepEqual(show, [
        'iceberg_namespace_properties.catalog_name character varying(255) NOT NULL',
        'iceberg_namespace_properties.namespace character varying(255) NOT NULL',
        'iceberg_namespace_properties.property_key character varying(255) NOT NULL',
        'iceberg_namespace_properties.property_value character varying(1000) NOT NULL',
        'iceberg_tables.catalog_name character varying(255) NOT NULL',
        'iceberg_tables.table_namespace character varying(255) NOT NULL',
        'iceberg_tables.table_name character varying(255) NOT NULL',
        'iceberg_tables.metadata_location character varying(1000) NULL',
        'iceberg_tables.previous_metadata_location character varying(1000) NULL',
        'iceberg_tables.iceberg_type character varying(5) NULL',
      ]);
    } finally {
      await client.end();
    }
  }));

  test('postgres:// and postgresql:// URIs open the same catalog; a commit lands in iceberg_tables', () => inEnv(async (env) => {
    const a = await openCatalog({ warehouse: env.dir, uri: env.db.uri });
    const b = await openCatalog({ warehouse: env.dir, uri: env.db.uri.replace(/^postgresql:/, 'postgres:') });
    try {
      await a.createNamespace(['db']);
      await a.createTable(T, { schema });
      await appendRecords(b, T, [{ id: '7' }]);
      const t = await a.loadTable(T);
      assert.equal(t.metadata.snapshots.length, 1);
      const rows = (await adminOn(env.db.uri, `SELECT catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type FROM iceberg_tables`)).rows;
      assert.equal(rows.length, 1);
      assert.deepEqual({ ...rows[0], metadata_location: undefined, previous_metadata_location: undefined },
        { catalog_name: 'floe', table_namespace: 'db', table_name: 't', metadata_location: undefined, previous_metadata_location: undefined, iceberg_type: 'TABLE' });
      assert.equal(rows[0].metadata_location, t.metadataLocation);
      assert.match(String(rows[0].previous_metadata_location), /\/metadata\/00000-[0-9a-f-]{36}\.metadata\.json$/);
    } finally {
      await a.close();
      await b.close();
    }
  }));

  test('bad URIs and credentials: one-line errors naming host, port and database, never the password', async () => {
    const base = new URL(await ensurePostgres());
    const role = `floe_pw_${randomUUID().slice(0, 8)}`;
    const secret = `s3cr3t-${randomUUID()}`;
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${secret}'`);
    // The role owns its database (so it may create the catalog tables in schema public).
    const own = await testDatabase();
    await adminQuery(`ALTER DATABASE ${own.name} OWNER TO ${role}`);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-pg-bad-'));
    try {
      const uri = (user: string, password: string, port: string, db: string): string =>
        `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
      // A right password works (and shows the role login is real).
      const good = await openCatalog({ warehouse: dir, uri: uri(role, secret, base.port, own.name) });
      await good.close();
      const cases: { uri: string; cls: abstract new (...args: never[]) => FloeError; message: RegExp }[] = [
        { uri: uri(role, 'wrong-password-xyz', base.port, 'floe'), cls: ValidationError,
          message: new RegExp(`^cannot connect to PostgreSQL catalog ${role}@127\\.0\\.0\\.1:${base.port}/floe: password authentication failed for user '${role}'$`) },
        { uri: uri('postgres', secret, base.port, 'no_such_db_xyz'), cls: ValidationError,
          message: new RegExp(`^cannot connect to PostgreSQL catalog postgres@127\\.0\\.0\\.1:${base.port}/no_such_db_xyz: database 'no_such_db_xyz' does not exist$`) },
        // Port 1 on loopback: nothing listens there.
        { uri: uri(role, secret, '1', 'floe'), cls: FileIOError,
          message: new RegExp(`^cannot connect to PostgreSQL catalog ${role}@127\\.0\\.0\\.1:1/floe: connection refused`) },
        { uri: `postgresql://${role}:${secret}@/floe`, cls: ValidationError, message: /^invalid PostgreSQL catalog URI 'postgresql:\/\/floe_pw_[0-9a-f]+:\*\*\*@\/floe'/ },
      ];
      for (const c of cases) {
        let caught: unknown;
        try {
          const cat = await openCatalog({ warehouse: dir, uri: c.uri });
          await cat.close();
        } catch (err) {
          caught = err;
        }
        assert.ok(caught instanceof c.cls, `${redactUri(c.uri)}: expected ${c.cls.name}, got ${String(caught)}`);
        const msg = (caught as Error).message;
        assert.match(msg, c.message);
        assert.ok(!msg.includes('\n'), `multi-line error: ${msg}`);
        assert.ok(!msg.includes(secret) && !msg.includes(encodeURIComponent(secret)), `password leaked: ${msg}`);
        assert.ok(!String((caught as Error).stack).includes(secret), 'password in the stack');
      }
      // An unknown scheme still names the URI, without its password.
      await assert.rejects(openCatalog({ warehouse: dir, uri: `mysql://u:${secret}@h/db` }), (err: Error) => {
        assert.match(err.message, /^unsupported catalog URI 'mysql:\/\/u:\*\*\*@h\/db'/);
        return true;
      });
    } finally {
      await own.drop();
      await adminQuery(`DROP ROLE IF EXISTS ${role}`);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('CLI: --catalog postgresql://… creates, appends and lists; a wrong password is one line on stderr, exit 1, no secret', () => inEnv(async (env) => {
    const floe = (args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), '--warehouse', env.dir, ...args], { cwd: REPO_ROOT, env: { ...process.env, FLOE_CATALOG: '' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
    const schemaFile = path.join(env.dir, 'schema.json');
    writeFileSync(schemaFile, JSON.stringify({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 'name', required: false, type: 'string' }] }));
    for (const args of [['namespace', 'create', 'db'], ['table', 'create', 'db.t', '--schema', schemaFile]]) {
      const r = await floe(['--catalog', env.db.uri, ...args]);
      assert.equal(r.code, 0, r.stderr);
    }
    const appended = await floe(['--catalog', env.db.uri, 'append', 'db.t', '-'], '{"id":1,"name":"a"}\n{"id":2,"name":"b"}\n');
    assert.equal(appended.code, 0, appended.stderr);
    const c = await openPg(env);
    try {
      assert.deepEqual((await readTableRows(c, T)).map((r) => [String(r.id), r.name]).sort(), [['1', 'a'], ['2', 'b']]);
    } finally {
      await c.close();
    }
    const secret = `pw-${randomUUID()}`;
    const bad = new URL(env.db.uri);
    bad.username = 'nobody_here';
    bad.password = secret;
    const r = await floe(['--catalog', bad.toString(), 'table', 'list', 'db']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^floe: cannot connect to PostgreSQL catalog nobody_here@127\\.0\\.0\\.1:${bad.port}/${env.db.name}: password authentication failed for user 'nobody_here'\n$`));
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret));
  }));

  test('parsePostgresUri: defaults and percent-encoded parts', () => {
    const { target, config } = parsePostgresUri('postgresql://al%40ice:p%2Fw@db.example:6000/lake');
    assert.deepEqual(target, { user: 'al@ice', host: 'db.example', port: 6000, database: 'lake', where: 'al@ice@db.example:6000/lake' });
    assert.equal(config.password, 'p/w');
    assert.equal(parsePostgresUri('postgres://u@h/d').target.port, 5432);
    assert.equal(redactUri('postgresql://u:pw@h:1/d'), 'postgresql://u:***@h:1/d');
  });

  test('connection lost during the commit UPDATE: commit state unknown, files kept; the core retries and the append lands once', () => inEnv(async (env) => {
    const c = await openPg(env);
    try {
      await c.createNamespace(['db']);
      await c.createTable(T, { schema });
      const before = await c.loadTable(T);
      // The catalog alone: it cannot know whether the UPDATE applied.
      const err = await cutDuringUpdate(env.db.uri, () => c.commitTable(T, [], [{ action: 'set-properties', updates: { k: 'v' } }]))
        .then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof CommitStateUnknownError, `expected CommitStateUnknownError, got ${String(err)}`);
      assert.match(err.message, /^commit to 'db\.t' may or may not have landed: PostgreSQL catalog postgres@127\.0\.0\.1:\d+\/floe_t_\w+: terminating connection/);
      // The pointer did not move, and the metadata file of the lost commit is still there.
      const after = await c.loadTable(T);
      assert.equal(after.metadataLocation, before.metadataLocation);
      const metadataFiles = async (): Promise<string[]> => (await c.io.list(`${before.metadata.location}/metadata/`)).map((f) => f.uri).filter((u) => u.endsWith('.metadata.json'));
      assert.equal((await metadataFiles()).length, 2);
      // Through the core: the unknown outcome is checked (snapshot id not in the table) and
      // retried on a new pooled connection; the row lands exactly once.
      await cutDuringUpdate(env.db.uri, () => appendRecords(c, T, [{ id: '1' }]));
      const t = await c.loadTable(T);
      assert.equal(t.metadata.snapshots.length, 1);
      assert.deepEqual((await readTableRows(c, T)).map((r) => String(r.id)), ['1']);
      assert.equal((await metadataFiles()).length, 4, 'the lost attempt\'s metadata file is kept, never deleted');
    } finally {
      await c.close();
    }
  }));

  test('8 catalogs create the same namespace at once: one wins, the others get AlreadyExistsError', () => inEnv(async (env) => {
    const cats = await Promise.all(Array.from({ length: 8 }, () => openPg(env)));
    try {
      for (let round = 0; round < 5; round++) {
        const { ok, errors } = await settle(cats.map((c) => c.createNamespace([`ns${round}`], { owner: 'x' })));
        assert.equal(ok.length, 1, `round ${round}: ${ok.length} creates succeeded; errors: ${errors.map(String).join(' | ')}`);
        for (const e of errors) assert.ok(e instanceof AlreadyExistsError, `round ${round}: ${String(e)}`);
        assert.deepEqual(await cats[0]!.loadNamespaceProperties([`ns${round}`]), { exists: 'true', owner: 'x' });
      }
    } finally {
      await Promise.all(cats.map((c) => c.close()));
    }
  }));

  test('8 catalogs create the same table at once: one wins, the others get AlreadyExistsError, one metadata file stays', () => inEnv(async (env) => {
    const cats = await Promise.all(Array.from({ length: 8 }, () => openPg(env)));
    try {
      await cats[0]!.createNamespace(['db']);
      for (let round = 0; round < 5; round++) {
        const id = { namespace: ['db'], name: `t${round}` };
        const { ok, errors } = await settle(cats.map((c) => c.createTable(id, { schema })));
        assert.equal(ok.length, 1, `round ${round}: ${ok.length} creates succeeded; errors: ${errors.map(String).join(' | ')}`);
        for (const e of errors) assert.ok(e instanceof AlreadyExistsError, `round ${round}: ${String(e)}`);
        const t = await cats[0]!.loadTable(id);
        assert.equal(t.metadataLocation, ok[0]!.metadataLocation);
        const files = (await cats[0]!.io.list(`${t.metadata.location}/`)).map((f) => f.uri);
        assert.deepEqual(files, [t.metadataLocation]);
      }
    } finally {
      await Promise.all(cats.map((c) => c.close()));
    }
  }));

  test('a create tolerates another create\'s in-flight temp metadata file in the table folder', () => inEnv(async (env) => {
    const c = await openPg(env);
    try {
      await c.createNamespace(['db']);
      // What LocalFileIO.writeNew holds for a moment while another process creates this table.
      const metaDir = path.join(env.dir, 'db', 't', 'metadata');
      mkdirSync(metaDir, { recursive: true });
      const temp = path.join(metaDir, `.00000-${randomUUID()}.metadata.json.${randomUUID()}.tmp`);
      writeFileSync(temp, '{');
      const t = await c.createTable(T, { schema });
      assert.equal(t.metadata.location, pathToUri(path.join(env.dir, 'db', 't')));
      assert.ok(existsSync(uriToPath(t.metadataLocation)));
      // Anything else in the folder is still refused.
      const other = { namespace: ['db'], name: 'u' };
      mkdirSync(path.join(env.dir, 'db', 'u', 'data'), { recursive: true });
      writeFileSync(path.join(env.dir, 'db', 'u', 'data', 'x.parquet'), 'x');
      await assert.rejects(c.createTable(other, { schema }), /cannot create table 'db\.u' at .*: the folder is not empty/);
    } finally {
      await c.close();
    }
  }));
});

describe('8 writer processes on one table through PostgreSQL', { skip }, () => {
  let env: Env;
  before(async () => { env = await freshEnv(); });
  after(async () => { await env?.cleanup(); });

  const appends = Number(process.env.FLOE_PG_APPENDS ?? 100);
  const workers = 8;
  const size = 10;

  test(`${workers} processes × ${appends} appends → ${workers * appends} snapshots, every row exactly once`, async (t) => {
    const c = await openPg(env);
    try {
      await c.createNamespace(['conc']);
      const id = { namespace: ['conc'], name: 'appends' };
      await c.createTable(id, {
        schema: APPEND_WORKER_SCHEMA,
        properties: { 'commit.retry.num-retries': '200', 'commit.retry.min-wait-ms': '5', 'commit.retry.max-wait-ms': '500' },
      });
      const started = Date.now();
      const runs = await Promise.all(Array.from({ length: workers }, (_, w) =>
        runAppendWorker({ dir: env.dir } as Parameters<typeof runAppendWorker>[0], 'conc.appends', w, appends, size, 0, undefined, { FLOE_TEST_CATALOG_URI: env.db.uri })));
      const seconds = (Date.now() - started) / 1000;
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      for (const r of runs) assert.deepEqual(r.committed, Array.from({ length: appends }, (_, b) => b));
      t.diagnostic(`postgres: ${workers} processes × ${appends} appends in ${seconds.toFixed(1)} s (${((workers * appends) / seconds).toFixed(1)} commits/s)`);

      // Exactly one snapshot per (worker, batch), none other, and every row exactly once by value.
      await assertEveryAppendOnce(c, id, workers, appends, size);
      const expectedIds = expectedAppendWorkerRows(workers, appends, size).map((r) => r.split('|')[0]!).sort();
      // pyiceberg finds the table through the same PostgreSQL catalog and reads the same rows.
      const noReaders = readersUnavailable();
      if (noReaders) t.diagnostic(`pyiceberg read skipped: ${noReaders}`);
      else assert.deepEqual((await pyicebergIds(env.db.uri, 'conc.appends')).sort(), expectedIds);
    } finally {
      await c.close();
    }
  });
});

/** The `id` column of a table as pyiceberg's SqlCatalog reads it through PostgreSQL. */
async function pyicebergIds(uri: string, table: string): Promise<string[]> {
  const script = [
    'import json, sys',
    'from pyiceberg.catalog.sql import SqlCatalog',
    "cat = SqlCatalog('floe', uri=sys.argv[1])",
    't = cat.load_table(sys.argv[2])',
    "print(json.dumps([str(v) for v in t.scan(selected_fields=('id',)).to_arrow().column('id').to_pylist()]))",
  ].join('\n');
  const sqlalchemyUri = uri.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://');
  const { stdout } = await promisify(execFile)(VENV_PYTHON, ['-c', script, sqlalchemyUri, table], { maxBuffer: 64 << 20, timeout: 120_000 });
  return JSON.parse(stdout) as string[];
}

/** Runs `op` while a second session holds the table row: once floe's commit UPDATE waits on
 * that lock, its server connection is terminated mid-statement. Returns what `op` returned. */
async function cutDuringUpdate<R>(uri: string, op: () => Promise<R>): Promise<R> {
  const locker = new pg.Client({ connectionString: uri });
  // pg_stat_activity is read outside the locker's transaction (inside one it is a snapshot).
  const watcher = new pg.Client({ connectionString: uri });
  await locker.connect();
  await watcher.connect();
  try {
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM iceberg_tables FOR UPDATE`);
    const running = op();
    running.catch(() => undefined);
    let waiting: { pid: number }[] = [];
    for (let i = 0; i < 500 && waiting.length === 0; i++) {
      waiting = (await watcher.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = 'floe' AND wait_event_type = 'Lock' AND query LIKE 'UPDATE iceberg_tables%'`)).rows;
      if (waiting.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(waiting.length, 1, 'the commit UPDATE never waited on the row lock');
    await watcher.query('SELECT pg_terminate_backend($1)', [waiting[0]!.pid]);
    await locker.query('ROLLBACK');
    return await running;
  } finally {
    await locker.end().catch(() => undefined);
    await watcher.end().catch(() => undefined);
  }
}

async function adminOn(uri: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}
