// The SQLite SqlCatalog: the shared conformance suite, plus what only SQLite shows — the
// JdbcCatalog/pyiceberg DDL, WAL mode, several processes (instances) on one catalog.db, and
// catalog_name isolation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openCatalog } from '../../../catalog/index.ts';
import { SqlCatalog } from '../../../catalog/sql/sql-catalog.ts';
import { SqliteDriver } from '../../../catalog/sql/sqlite-driver.ts';
import { CommitConflictError, NotFoundError } from '../../../src/errors.ts';
import type { FileIO } from '../../../src/io/file-io.ts';
import { LocalFileIO, pathToUri, uriToPath } from '../../../src/io/local-file-io.ts';
import { Schema } from '../../../src/spec/schema.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { tableFiles } from '../../../src/table/table-files.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { runCatalogConformance } from '../../catalog-conformance.ts';
import { insertTableAt } from '../../support/legacy-nested-table.ts';

const schema = new Schema(0, [{ id: 1, name: 'id', required: true, type: { kind: 'long' } }]);
const T: TableIdentifier = { namespace: ['db'], name: 't' };

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'floe-sqlite-catalog-'));
}

async function openSql(dir: string, name = 'test', io: FileIO = new LocalFileIO()): Promise<SqlCatalog> {
  return SqlCatalog.open({ name, driver: new SqliteDriver(path.join(dir, 'catalog.db')), io, warehouse: pathToUri(dir) });
}

runCatalogConformance('sqlite SqlCatalog', async () => {
  const dir = await tempDir();
  const catalog = await openSql(dir);
  return {
    catalog,
    async cleanup() {
      await catalog.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** Runs `fn` with a fresh warehouse dir; the directory is removed afterwards. */
async function inDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface ColumnInfo { name: string; type: string; notnull: number; pk: number }

describe('sqlite SqlCatalog specifics', () => {
  test('DDL has exactly the JdbcCatalog (schema V1) / pyiceberg columns', () => inDir(async (dir) => {
    const c = await openSql(dir);
    await c.close();
    const db = new Database(path.join(dir, 'catalog.db'), { readonly: true });
    try {
      const cols = (table: string): [string, string, number, number][] =>
        (db.prepare(`PRAGMA table_info(${table})`).all() as ColumnInfo[]).map((r) => [r.name, r.type, r.notnull, r.pk]);
      assert.deepEqual(cols('iceberg_tables'), [
        ['catalog_name', 'VARCHAR(255)', 1, 1],
        ['table_namespace', 'VARCHAR(255)', 1, 2],
        ['table_name', 'VARCHAR(255)', 1, 3],
        ['metadata_location', 'VARCHAR(1000)', 0, 0],
        ['previous_metadata_location', 'VARCHAR(1000)', 0, 0],
        ['iceberg_type', 'VARCHAR(5)', 0, 0],
      ]);
      assert.deepEqual(cols('iceberg_namespace_properties'), [
        ['catalog_name', 'VARCHAR(255)', 1, 1],
        ['namespace', 'VARCHAR(255)', 1, 2],
        ['property_key', 'VARCHAR(255)', 1, 3],
        ['property_value', 'VARCHAR(1000)', 1, 0],
      ]);
      const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
      assert.deepEqual(tables, ['iceberg_namespace_properties', 'iceberg_tables']);
    } finally {
      db.close();
    }
  }));

  test('opening twice keeps the data (CREATE TABLE IF NOT EXISTS)', () => inDir(async (dir) => {
    const a = await openSql(dir);
    await a.createNamespace(['db']);
    await a.close();
    const b = await openSql(dir);
    try {
      assert.deepEqual(await b.listNamespaces(), [['db']]);
    } finally {
      await b.close();
    }
  }));

  test('rows carry iceberg_type=TABLE and previous_metadata_location follows commits', () => inDir(async (dir) => {
    const c = await openSql(dir);
    await c.createNamespace(['db', 'sub'], { owner: 'me' });
    const id: TableIdentifier = { namespace: ['db', 'sub'], name: 't' };
    const t = await c.createTable(id, { schema });
    const db = new Database(path.join(dir, 'catalog.db'));
    try {
      const row = (): unknown => db.prepare(`SELECT * FROM iceberg_tables`).all();
      assert.deepEqual(row(), [{
        catalog_name: 'test', table_namespace: 'db.sub', table_name: 't',
        metadata_location: t.metadataLocation, previous_metadata_location: null, iceberg_type: 'TABLE',
      }]);
      const next = await c.commitTable(id, [], [{ action: 'set-properties', updates: { a: 'b' } }]);
      assert.deepEqual(row(), [{
        catalog_name: 'test', table_namespace: 'db.sub', table_name: 't',
        metadata_location: next.metadataLocation, previous_metadata_location: t.metadataLocation, iceberg_type: 'TABLE',
      }]);
      assert.deepEqual(db.prepare(`SELECT * FROM iceberg_namespace_properties ORDER BY property_key`).all(), [
        { catalog_name: 'test', namespace: 'db.sub', property_key: 'exists', property_value: 'true' },
        { catalog_name: 'test', namespace: 'db.sub', property_key: 'owner', property_value: 'me' },
      ]);
      // Metadata locations are file: URIs, as Java and pyiceberg write them.
      assert.ok(t.metadataLocation.startsWith(`${pathToUri(dir)}/db/sub/t/metadata/00000-`), t.metadataLocation);
    } finally {
      db.close();
      await c.close();
    }
  }));

  test('rows written by Java without iceberg_type are tables; VIEW rows are not', () => inDir(async (dir) => {
    const c = await openSql(dir);
    await c.createNamespace(['db']);
    const t = await c.createTable(T, { schema });
    const db = new Database(path.join(dir, 'catalog.db'));
    try {
      db.prepare(`INSERT INTO iceberg_tables VALUES ('test', 'db', 'legacy', ?, NULL, NULL)`).run(t.metadataLocation);
      db.prepare(`INSERT INTO iceberg_tables VALUES ('test', 'db', 'v', ?, NULL, 'VIEW')`).run(t.metadataLocation);
    } finally {
      db.close();
    }
    try {
      assert.deepEqual((await c.listTables(['db'])).map((x) => x.name), ['legacy', 't']);
      assert.equal((await c.loadTable({ namespace: ['db'], name: 'legacy' })).metadata.tableUuid, t.metadata.tableUuid);
      assert.equal(await c.tableExists({ namespace: ['db'], name: 'v' }), false);
      await assert.rejects(c.loadTable({ namespace: ['db'], name: 'v' }), NotFoundError);
      await assert.rejects(c.dropTable({ namespace: ['db'], name: 'v' }), NotFoundError);
    } finally {
      await c.close();
    }
  }));

  test('opens a catalog.db created by pyiceberg (no iceberg_type column) and writes to it', () => inDir(async (dir) => {
    const db = new Database(path.join(dir, 'catalog.db'));
    // pyiceberg's SqlCatalog models (pyiceberg/catalog/sql.py): five columns in iceberg_tables.
    db.exec(`CREATE TABLE iceberg_tables (
      catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT NULL,
      metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000),
      PRIMARY KEY (catalog_name, table_namespace, table_name))`);
    db.exec(`CREATE TABLE iceberg_namespace_properties (
      catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, property_key VARCHAR(255) NOT NULL,
      property_value VARCHAR(1000) NOT NULL, PRIMARY KEY (catalog_name, namespace, property_key))`);
    db.close();
    const c = await openSql(dir, 'default');
    try {
      await c.createNamespace(['db']);
      const t = await c.createTable(T, { schema });
      const next = await c.commitTable(T, [], [{ action: 'set-properties', updates: { a: 'b' } }]);
      assert.deepEqual(await c.listTables(['db']), [T]);
      assert.equal((await c.loadTable(T)).metadataLocation, next.metadataLocation);
      await c.renameTable(T, { namespace: ['db'], name: 'u' });
      assert.equal((await c.loadTable({ namespace: ['db'], name: 'u' })).metadata.tableUuid, t.metadata.tableUuid);
    } finally {
      await c.close();
    }
    // pyiceberg's own SELECT (its five columns) still works on the file.
    const check = new Database(path.join(dir, 'catalog.db'), { readonly: true });
    try {
      const rows = check.prepare(`SELECT catalog_name, table_namespace, table_name FROM iceberg_tables`).all();
      assert.deepEqual(rows, [{ catalog_name: 'default', table_namespace: 'db', table_name: 'u' }]);
    } finally {
      check.close();
    }
  }));

  test('journal mode is WAL', () => inDir(async (dir) => {
    const c = await openSql(dir);
    await c.close();
    const db = new Database(path.join(dir, 'catalog.db'));
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  }));

  test('two SqlCatalog instances on one file see each other\'s commits', () => inDir(async (dir) => {
    const a = await openSql(dir);
    const b = await openSql(dir);
    try {
      await a.createNamespace(['db']);
      assert.equal(await b.namespaceExists(['db']), true);
      const created = await a.createTable(T, { schema });
      const seenByB = await b.loadTable(T);
      assert.equal(seenByB.metadataLocation, created.metadataLocation);
      const byB = await b.commitTable(T, [], [{ action: 'set-properties', updates: { writer: 'b' } }]);
      const seenByA = await a.loadTable(T);
      assert.equal(seenByA.metadataLocation, byB.metadataLocation);
      assert.deepEqual(seenByA.metadata.properties, { writer: 'b' });
      // A's view is never cached: its next commit builds on B's file…
      const byA = await a.commitTable(T, [{ type: 'assert-table-uuid', uuid: created.metadata.tableUuid }],
        [{ action: 'set-properties', updates: { writer: 'a' } }]);
      assert.deepEqual(byA.metadata.metadataLog.map((e) => e.metadataFile), [created.metadataLocation, byB.metadataLocation]);
      assert.equal((await b.loadTable(T)).metadataLocation, byA.metadataLocation);
      // …and a requirement made stale by B's snapshot fails in A.
      await b.commitTable(T, [], [
        { action: 'add-snapshot', snapshot: { snapshotId: 7n, parentSnapshotId: null, sequenceNumber: 1n, timestampMs: 1_700_000_000_000, manifestList: `${created.metadata.location}/metadata/snap-7.avro`, summary: { operation: 'append' }, schemaId: 0 } },
        { action: 'set-snapshot-ref', refName: 'main', type: 'branch', snapshotId: 7n },
      ]);
      await assert.rejects(
        a.commitTable(T, [{ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: null }], [{ action: 'set-properties', updates: { writer: 'a2' } }]),
        (e: unknown) => e instanceof CommitConflictError && /expected no snapshot, found 7/.test(e.message));
      assert.equal((await a.loadTable(T)).metadata.currentSnapshotId, 7n);
    } finally {
      await a.close();
      await b.close();
    }
  }));

  test('pointer race between two instances: the loser gets CommitConflictError and its file is removed', () => inDir(async (dir) => {
    // Both commits read the same base before either swaps the pointer: the writeNew of the
    // next metadata file waits until both have reached it, so the CAS alone decides.
    let arrived = 0;
    let release!: () => void;
    const bothWrote = new Promise<void>((r) => { release = r; });
    const local = new LocalFileIO();
    const gatedIo: FileIO = {
      read: (u) => local.read(u),
      exists: (u) => local.exists(u),
      delete: (u) => local.delete(u),
      list: (p) => local.list(p),
      createNew: (u) => local.createNew(u),
      openBlob: (u) => local.openBlob(u),
      async writeNew(uri, bytes) {
        await local.writeNew(uri, bytes);
        if (/\/00001-[^/]*\.metadata\.json$/.test(uri)) {
          if (++arrived === 2) release();
          await bothWrote;
        }
      },
    };
    const setup = await openSql(dir);
    await setup.createNamespace(['db']);
    const t = await setup.createTable(T, { schema });
    await setup.close();
    const a = await openSql(dir, 'test', gatedIo);
    const b = await openSql(dir, 'test', gatedIo);
    try {
      const results = await Promise.allSettled([
        a.commitTable(T, [], [{ action: 'set-properties', updates: { writer: 'a' } }]),
        b.commitTable(T, [], [{ action: 'set-properties', updates: { writer: 'b' } }]),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      assert.ok(lost[0]!.reason instanceof CommitConflictError, String(lost[0]!.reason));
      assert.match((lost[0]!.reason as Error).message, /table 'db\.t' was updated by another writer/);
      const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<SqlCatalog['commitTable']>>>).value;
      const files = (await local.list(`${t.metadata.location}/metadata/`)).map((f) => f.uri).sort();
      assert.deepEqual(files, [t.metadataLocation, winner.metadataLocation].sort());
      assert.equal((await a.loadTable(T)).metadataLocation, winner.metadataLocation);
    } finally {
      await a.close();
      await b.close();
    }
  }));

  test('two catalog names in one db are isolated', () => inDir(async (dir) => {
    const a = await openSql(dir, 'alpha');
    const b = await openSql(dir, 'beta');
    try {
      await a.createNamespace(['db'], { owner: 'a' });
      assert.equal(await b.namespaceExists(['db']), false);
      assert.deepEqual(await b.listNamespaces(), []);
      const ta = await a.createTable(T, { schema, location: `${pathToUri(dir)}/alpha/db/t` });
      assert.equal(await b.tableExists(T), false);
      await assert.rejects(b.loadTable(T), NotFoundError);
      await b.createNamespace(['db'], { owner: 'b' });
      const tb = await b.createTable(T, { schema, location: `${pathToUri(dir)}/beta/db/t` });
      assert.notEqual(ta.metadata.tableUuid, tb.metadata.tableUuid);
      await b.commitTable(T, [], [{ action: 'set-properties', updates: { who: 'b' } }]);
      assert.equal((await a.loadTable(T)).metadataLocation, ta.metadataLocation);
      assert.deepEqual(await a.loadNamespaceProperties(['db']), { exists: 'true', owner: 'a' });
      await b.dropTable(T);
      await b.dropNamespace(['db']);
      assert.equal(await a.tableExists(T), true);
      assert.deepEqual(await a.listNamespaces(), [['db']]);
    } finally {
      await a.close();
      await b.close();
    }
  }));

  test('openCatalog defaults to <warehouse>/catalog.db named floe', () => inDir(async (dir) => {
    const c = await openCatalog({ warehouse: dir });
    try {
      assert.equal(c.name, 'floe');
      await c.createNamespace(['db']);
      const t = await c.createTable(T, { schema });
      assert.equal(t.metadata.location, `${pathToUri(dir)}/db/t`);
    } finally {
      await c.close();
    }
    const db = new Database(path.join(dir, 'catalog.db'), { readonly: true });
    try {
      assert.deepEqual(db.prepare(`SELECT catalog_name, table_name FROM iceberg_tables`).all(), [{ catalog_name: 'floe', table_name: 't' }]);
    } finally {
      db.close();
    }
  }));

  test('purge of a table with an older catalog\'s table inside its folder leaves that table whole', () => inDir(async (dir) => {
    const c = await openSql(dir);
    try {
      await c.createNamespace(['a']);
      const outer = await c.createTable({ namespace: ['a'], name: 'b' }, { schema });
      await appendRecords(c, outer.identifier, [{ id: 1n }]);
      const inner = { namespace: ['a', 'b', 'data'], name: 'x' };
      await insertTableAt(c, path.join(dir, 'catalog.db'), inner, `${outer.metadata.location}/data/x`, schema);
      await appendRecords(c, inner, [{ id: 2n }, { id: 3n }]);
      const innerFiles = (await c.io.list(`${outer.metadata.location}/data/x/`)).map((f) => f.uri).sort();
      assert.ok(innerFiles.some((f) => f.endsWith('.parquet')), innerFiles.join(' '));
      const outerLoaded = await c.loadTable(outer.identifier);
      const outerFiles = [...await tableFiles(c.io, outerLoaded.metadata, outerLoaded.metadataLocation)].filter((f) => !f.endsWith('version-hint.text'));

      await c.dropTable(outer.identifier, { purge: true });
      for (const f of outerFiles) assert.equal(await c.io.exists(f), false, f);
      assert.deepEqual((await c.io.list(`${outer.metadata.location}/`)).map((f) => f.uri).sort(), innerFiles);
      const t = await c.loadTable(inner);
      assert.equal(t.metadata.snapshots.length, 1);
      for (const f of await tableFiles(c.io, t.metadata, t.metadataLocation)) if (!f.endsWith('version-hint.text')) assert.equal(await c.io.exists(f), true, f);
    } finally {
      await c.close();
    }
  }));

  test('purge of the inner table deletes its own files even though an outer table\'s folder contains them', () => inDir(async (dir) => {
    const c = await openSql(dir);
    try {
      await c.createNamespace(['a']);
      const outer = await c.createTable({ namespace: ['a'], name: 'b' }, { schema });
      await appendRecords(c, outer.identifier, [{ id: 1n }]);
      const inner = { namespace: ['a', 'b', 'data'], name: 'x' };
      await insertTableAt(c, path.join(dir, 'catalog.db'), inner, `${outer.metadata.location}/data/x`, schema);
      await appendRecords(c, inner, [{ id: 2n }]);
      const outerBefore = (await c.io.list(`${outer.metadata.location}/`)).map((f) => f.uri).filter((u) => !u.includes('/data/x/')).sort();
      await c.dropTable(inner, { purge: true });
      assert.deepEqual(await c.io.list(`${outer.metadata.location}/data/x/`), []);
      assert.deepEqual((await c.io.list(`${outer.metadata.location}/`)).map((f) => f.uri).sort(), outerBefore);
    } finally {
      await c.close();
    }
  }));

  test('purge of a table that shares its location with another (an older catalog\'s twin) deletes nothing and says so', () => inDir(async (dir) => {
    const c = await openSql(dir);
    try {
      await c.createNamespace(['db']);
      const t = await c.createTable(T, { schema });
      await appendRecords(c, T, [{ id: 1n }]);
      await insertTableAt(c, path.join(dir, 'catalog.db'), { namespace: ['db'], name: 'twin' }, `${t.metadata.location}/`, schema);
      const before = (await c.io.list(`${t.metadata.location}/`)).map((f) => f.uri).sort();
      const r = await c.dropTable(T, { purge: true });
      assert.equal(r.deletedFiles, 0);
      assert.ok(r.sparedFiles >= 4, String(r.sparedFiles));
      assert.deepEqual((await c.io.list(`${t.metadata.location}/`)).map((f) => f.uri).sort(), before);
      assert.equal(await c.tableExists(T), false);
    } finally {
      await c.close();
    }
  }));

  test('a location that reaches another table\'s folder through a symbolic link is refused', () => inDir(async (dir) => {
    const c = await openSql(dir);
    try {
      await c.createNamespace(['db']);
      const a = await c.createTable({ namespace: ['db'], name: 'a' }, { schema });
      await symlink(uriToPath(a.metadata.location), path.join(dir, 'to-a'));
      await mkdir(path.join(uriToPath(a.metadata.location), 'data'));
      await symlink(path.join(uriToPath(a.metadata.location), 'data'), path.join(dir, 'to-a-data'));
      for (const location of [`file://${dir}/to-a`, `file://${dir}/to-a/`, `file://${dir}/to-a-data/x`, `${dir}/to-a-data`]) {
        await assert.rejects(c.createTable({ namespace: ['db'], name: 'b' }, { schema, location }), (err: Error) => /overlaps table 'db\.a'/.test(err.message), location);
      }
      assert.equal(await c.tableExists({ namespace: ['db'], name: 'b' }), false);
    } finally {
      await c.close();
    }
  }));
});
