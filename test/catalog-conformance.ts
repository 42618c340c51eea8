// The one conformance suite every Catalog implementation runs (iceberg-go's `catalogtest`):
// namespaces, tables, identifier validation and the commit contract (requirements, CAS,
// metadata-log trimming), all through the core's Catalog interface only.
import { describe, test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlreadyExistsError, CommitConflictError, InvalidMetadataError, NamespaceNotEmptyError, NotFoundError, ValidationError,
  type FloeErrorKind,
} from '../src/errors.ts';
import { Schema } from '../src/spec/schema.ts';
import type { Snapshot } from '../src/spec/table-metadata.ts';
import type { TableRequirement, TableUpdate } from '../src/spec/table-updates.ts';
import type { Catalog, LoadedTable } from '../src/table/catalog.ts';
import { tableFiles } from '../src/table/table-files.ts';
import { appendRecords } from '../src/transaction/append-records.ts';
import type { TableIdentifier } from '../src/table/identifier.ts';

export interface CatalogUnderTest {
  readonly catalog: Catalog;
  cleanup(): Promise<void>;
}

type ErrorClass = abstract new (...args: never[]) => Error;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const metadataFileRe = (version: string): RegExp => new RegExp(`/metadata/${version}-${UUID}\\.metadata\\.json$`);

const schema = new Schema(0, [
  { id: 1, name: 'id', required: true, type: { kind: 'long' } },
  { id: 2, name: 'data', required: false, type: { kind: 'string' } },
]);

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const tid = (namespace: string[], name: string): TableIdentifier => ({ namespace, name });

/** Awaits a rejection and checks class, `kind` and message; returns the error. */
async function expectError<E extends Error>(p: Promise<unknown>, cls: ErrorClass, kind: FloeErrorKind, message: RegExp): Promise<E> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected ${cls.name} but the call succeeded`);
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String((caught as Error)?.name)}: ${String((caught as Error)?.message)}`);
  assert.equal((caught as { kind?: string }).kind, kind);
  assert.match((caught as Error).message, message);
  return caught as E;
}

/** Every file under the table's metadata/ folder, sorted. */
async function metadataFiles(catalog: Catalog, t: LoadedTable): Promise<string[]> {
  return (await catalog.io.list(`${t.metadata.location}/metadata/`)).map((f) => f.uri).sort();
}

function fakeSnapshot(location: string, snapshotId: bigint, sequenceNumber: bigint, parent: bigint | null = null): Snapshot {
  // The catalog never opens the manifest list, so a path that does not exist is enough here.
  return {
    // Now, not a fixed date: Java's catalogs refuse a snapshot older than the metadata log.
    snapshotId, parentSnapshotId: parent, sequenceNumber, timestampMs: Date.now(),
    manifestList: `${location}/metadata/snap-${snapshotId}-1-00000000-0000-0000-0000-000000000000.avro`,
    summary: { operation: 'append' }, schemaId: 0,
  };
}

function appendUpdates(snapshot: Snapshot): TableUpdate[] {
  return [
    { action: 'add-snapshot', snapshot },
    { action: 'set-snapshot-ref', refName: 'main', type: 'branch', snapshotId: snapshot.snapshotId },
  ];
}

/** What a catalog may legitimately do differently (each with its reason); no case is skipped. */
export interface ConformanceOptions {
  /** Namespace properties a load returns for `given` (default: JdbcCatalog's `exists: 'true'` marker). */
  readonly namespaceProperties?: (namespace: readonly string[], given: Record<string, string>) => Record<string, string>;
  /** Table properties the catalog adds on create (Java's REST server: `write.parquet.compression-codec`). */
  readonly createdTableProperties?: Readonly<Record<string, string>>;
  /** Why a losing concurrent create/commit may leave its metadata file behind (the server writes
   * it, not floe): the race tests then accept extra metadata files the table does not reference,
   * and still check everything else. Unset: a loser must leave no file. */
  readonly loserMetadataFilesRemain?: string;
}

export function runCatalogConformance(name: string, makeCatalog: () => Promise<CatalogUnderTest>, opts: ConformanceOptions = {}): void {
  /** The table's metadata files are `expected`, plus — where the catalog's server leaves a losing
   * attempt's file — only files the table does not reference. */
  const assertMetadataFiles = async (c: Catalog, t: LoadedTable, loaded: LoadedTable, expected: string[]): Promise<void> => {
    const files = await metadataFiles(c, t);
    if (opts.loserMetadataFilesRemain === undefined) { assert.deepEqual(files, [...expected].sort()); return; }
    for (const f of expected) assert.ok(files.includes(f), `${f} is there`);
    const referenced = new Set([loaded.metadataLocation, ...loaded.metadata.metadataLog.map((e) => e.metadataFile)]);
    for (const f of files) if (!expected.includes(f)) assert.ok(!referenced.has(f), `${f}: a loser's file must not be referenced (${opts.loserMetadataFilesRemain})`);
  };
  const test = (label: string, fn: () => Promise<void>): void => { nodeTest(label, fn); };
  const nsProps = (ns: readonly string[], given: Record<string, string>): Record<string, string> =>
    opts.namespaceProperties ? opts.namespaceProperties(ns, given) : { exists: 'true', ...given };
  const tblProps = (given: Record<string, string>): Record<string, string> => ({ ...opts.createdTableProperties, ...given });
  const withCatalog = async (fn: (catalog: Catalog) => Promise<void>): Promise<void> => {
    const { catalog, cleanup } = await makeCatalog();
    try {
      await fn(catalog);
    } finally {
      await cleanup();
    }
  };

  describe(`catalog conformance: ${name}`, () => {
    describe('namespaces', () => {
      test('create, exists and the exists=true marker', () => withCatalog(async (c) => {
        assert.equal(await c.namespaceExists(['db']), false);
        await c.createNamespace(['db'], { owner: 'alice' });
        assert.equal(await c.namespaceExists(['db']), true);
        assert.deepEqual(await c.loadNamespaceProperties(['db']), nsProps(['db'], { owner: 'alice' }));
      }));

      test('creating a namespace twice fails with AlreadyExistsError', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await expectError(c.createNamespace(['db']), AlreadyExistsError, 'already-exists', /namespace 'db' already exists/);
        assert.deepEqual(await c.listNamespaces(), [['db']]);
      }));

      test('nested namespaces: list top level and children', () => withCatalog(async (c) => {
        await c.createNamespace(['a']);
        await c.createNamespace(['a', 'b']);
        await c.createNamespace(['a', 'c']);
        await c.createNamespace(['a', 'b', 'deep']);
        await c.createNamespace(['z']);
        assert.equal(await c.namespaceExists(['a', 'b']), true);
        assert.equal(await c.namespaceExists(['a', 'x']), false);
        assert.deepEqual(await c.listNamespaces(), [['a'], ['z']]);
        assert.deepEqual(await c.listNamespaces(['a']), [['a', 'b'], ['a', 'c']]);
        assert.deepEqual(await c.listNamespaces(['a', 'b']), [['a', 'b', 'deep']]);
        assert.deepEqual(await c.listNamespaces(['z']), []);
        assert.deepEqual(await c.loadNamespaceProperties(['a', 'b']), nsProps(['a', 'b'], {}));
      }));

      test('a namespace name that is a prefix of another is a different namespace', () => withCatalog(async (c) => {
        await c.createNamespace(['ab']);
        assert.equal(await c.namespaceExists(['a']), false);
        await c.createNamespace(['a_b']);
        assert.equal(await c.namespaceExists(['a']), false);
        assert.deepEqual(await c.listNamespaces(), [['a_b'], ['ab']]);
      }));

      test('properties: load, update, remove', () => withCatalog(async (c) => {
        await c.createNamespace(['db'], { owner: 'alice', team: 'data' });
        await c.updateNamespaceProperties(['db'], { owner: 'bob', comment: 'events' }, ['team']);
        assert.deepEqual(await c.loadNamespaceProperties(['db']), nsProps(['db'], { owner: 'bob', comment: 'events' }));
        await c.updateNamespaceProperties(['db'], {}, ['comment', 'not-there']);
        assert.deepEqual(await c.loadNamespaceProperties(['db']), nsProps(['db'], { owner: 'bob' }));
      }));

      test('properties of a missing namespace: NotFoundError', () => withCatalog(async (c) => {
        await expectError(c.loadNamespaceProperties(['nope']), NotFoundError, 'not-found', /namespace 'nope' does not exist/);
        await expectError(c.updateNamespaceProperties(['nope'], { a: 'b' }), NotFoundError, 'not-found', /namespace 'nope' does not exist/);
        assert.equal(await c.namespaceExists(['nope']), false);
      }));

      test('dropping a namespace that holds a table fails with NamespaceNotEmptyError', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await c.createTable(tid(['db'], 't'), { schema });
        await expectError(c.dropNamespace(['db']), NamespaceNotEmptyError, 'namespace-not-empty', /namespace 'db' is not empty/);
        assert.equal(await c.namespaceExists(['db']), true);
        assert.equal(await c.tableExists(tid(['db'], 't')), true);
      }));

      test('dropping a namespace that holds a child namespace fails with NamespaceNotEmptyError', () => withCatalog(async (c) => {
        await c.createNamespace(['a']);
        await c.createNamespace(['a', 'b']);
        await expectError(c.dropNamespace(['a']), NamespaceNotEmptyError, 'namespace-not-empty', /namespace 'a' is not empty/);
        assert.deepEqual(await c.listNamespaces(['a']), [['a', 'b']]);
      }));

      test('dropping an empty namespace removes it and its properties', () => withCatalog(async (c) => {
        await c.createNamespace(['db'], { owner: 'alice' });
        await c.createNamespace(['keep']);
        await c.dropNamespace(['db']);
        assert.equal(await c.namespaceExists(['db']), false);
        assert.deepEqual(await c.listNamespaces(), [['keep']]);
        await expectError(c.loadNamespaceProperties(['db']), NotFoundError, 'not-found', /'db'/);
        // Re-creating starts from fresh properties.
        await c.createNamespace(['db']);
        assert.deepEqual(await c.loadNamespaceProperties(['db']), nsProps(['db'], {}));
      }));

      test('dropping a table then its namespace works', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await c.createTable(tid(['db'], 't'), { schema });
        await c.dropTable(tid(['db'], 't'));
        await c.dropNamespace(['db']);
        assert.equal(await c.namespaceExists(['db']), false);
      }));

      test('dropping a missing namespace fails with NotFoundError', () => withCatalog(async (c) => {
        await expectError(c.dropNamespace(['nope']), NotFoundError, 'not-found', /namespace 'nope' does not exist/);
      }));
    });

    describe('tables', () => {
      test('creating a table in a missing namespace fails with NotFoundError', () => withCatalog(async (c) => {
        await expectError(c.createTable(tid(['nope'], 't'), { schema }), NotFoundError, 'not-found', /namespace 'nope' does not exist/);
        assert.equal(await c.tableExists(tid(['nope'], 't')), false);
      }));

      test('create and load a table', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const created = await c.createTable(tid(['db'], 'events'), { schema, properties: { 'write.format.default': 'parquet' } });
        assert.deepEqual(created.identifier, tid(['db'], 'events'));
        assert.match(created.metadataLocation, metadataFileRe('00000'));
        assert.ok(created.metadataLocation.startsWith(`${created.metadata.location}/metadata/`), created.metadataLocation);
        assert.match(created.metadata.location, /\/db\/events$/);
        assert.equal(created.metadata.formatVersion, 2);
        assert.equal(created.metadata.currentSnapshotId, null);
        assert.equal(created.metadata.lastSequenceNumber, 0n);
        assert.equal(created.metadata.lastColumnId, 2);
        assert.deepEqual(created.metadata.properties, tblProps({ 'write.format.default': 'parquet' }));
        assert.deepEqual(created.metadata.metadataLog, []);

        const loaded = await c.loadTable(tid(['db'], 'events'));
        assert.equal(loaded.metadataLocation, created.metadataLocation);
        assert.deepEqual(loaded.metadata, created.metadata);
        assert.equal(await c.io.exists(created.metadataLocation), true);
        assert.deepEqual(await metadataFiles(c, created), [created.metadataLocation]);
      }));

      test('an explicit location is used', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const base = (await c.createTable(tid(['db'], 'probe'), { schema })).metadata.location;
        const location = `${base.slice(0, base.lastIndexOf('/'))}/elsewhere`;
        const t = await c.createTable(tid(['db'], 't'), { schema, location });
        assert.equal(t.metadata.location, location);
        assert.ok(t.metadataLocation.startsWith(`${location}/metadata/00000-`), t.metadataLocation);
      }));

      test('creating a table twice fails with AlreadyExistsError and leaves the first intact', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const first = await c.createTable(tid(['db'], 't'), { schema });
        await expectError(c.createTable(tid(['db'], 't'), { schema }), AlreadyExistsError, 'already-exists', /table 'db\.t' already exists/);
        const loaded = await c.loadTable(tid(['db'], 't'));
        assert.equal(loaded.metadataLocation, first.metadataLocation);
        assert.equal(loaded.metadata.tableUuid, first.metadata.tableUuid);
        assert.deepEqual(await metadataFiles(c, first), [first.metadataLocation]);
      }));

      test('concurrent creates of one table: one wins, the other gets AlreadyExistsError and leaves no file', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const results = await Promise.allSettled([c.createTable(tid(['db'], 't'), { schema }), c.createTable(tid(['db'], 't'), { schema })]);
        const won = results.filter((r): r is PromiseFulfilledResult<LoadedTable> => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(won.length, 1);
        assert.equal(lost.length, 1);
        assert.ok(lost[0]!.reason instanceof AlreadyExistsError, String(lost[0]!.reason));
        const loaded = await c.loadTable(tid(['db'], 't'));
        assert.equal(loaded.metadataLocation, won[0]!.value.metadataLocation);
        await assertMetadataFiles(c, loaded, loaded, [loaded.metadataLocation]);
      }));

      test('loading a missing table fails with NotFoundError', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await expectError(c.loadTable(tid(['db'], 'nope')), NotFoundError, 'not-found', /table 'db\.nope' does not exist/);
      }));

      test('list and exists', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await c.createNamespace(['db', 'sub']);
        await c.createNamespace(['other']);
        await c.createTable(tid(['db'], 'b'), { schema });
        await c.createTable(tid(['db'], 'a'), { schema });
        await c.createTable(tid(['db', 'sub'], 'c'), { schema });
        assert.deepEqual(await c.listTables(['db']), [tid(['db'], 'a'), tid(['db'], 'b')]);
        assert.deepEqual(await c.listTables(['db', 'sub']), [tid(['db', 'sub'], 'c')]);
        assert.deepEqual(await c.listTables(['other']), []);
        assert.equal(await c.tableExists(tid(['db'], 'a')), true);
        assert.equal(await c.tableExists(tid(['db', 'sub'], 'c')), true);
        assert.equal(await c.tableExists(tid(['db'], 'c')), false);
        assert.equal(await c.tableExists(tid(['other'], 'a')), false);
      }));

      test('rename moves the table, keeping its metadata', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await c.createNamespace(['archive']);
        const t = await c.createTable(tid(['db'], 'old'), { schema });
        await c.renameTable(tid(['db'], 'old'), tid(['db'], 'new'));
        assert.equal(await c.tableExists(tid(['db'], 'old')), false);
        const renamed = await c.loadTable(tid(['db'], 'new'));
        assert.equal(renamed.metadataLocation, t.metadataLocation);
        assert.equal(renamed.metadata.tableUuid, t.metadata.tableUuid);
        await c.renameTable(tid(['db'], 'new'), tid(['archive'], 'moved'));
        assert.deepEqual(await c.listTables(['db']), []);
        assert.deepEqual(await c.listTables(['archive']), [tid(['archive'], 'moved')]);
      }));

      test('rename to an existing name fails with AlreadyExistsError; both tables stay', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const a = await c.createTable(tid(['db'], 'a'), { schema });
        const b = await c.createTable(tid(['db'], 'b'), { schema });
        await expectError(c.renameTable(tid(['db'], 'a'), tid(['db'], 'b')), AlreadyExistsError, 'already-exists', /table 'db\.b' already exists/);
        assert.equal((await c.loadTable(tid(['db'], 'a'))).metadata.tableUuid, a.metadata.tableUuid);
        assert.equal((await c.loadTable(tid(['db'], 'b'))).metadata.tableUuid, b.metadata.tableUuid);
      }));

      test('rename into a missing namespace fails with NotFoundError', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await c.createTable(tid(['db'], 'a'), { schema });
        await expectError(c.renameTable(tid(['db'], 'a'), tid(['nope'], 'a')), NotFoundError, 'not-found', /namespace 'nope' does not exist/);
        assert.equal(await c.tableExists(tid(['db'], 'a')), true);
      }));

      test('renaming a missing table fails with NotFoundError', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await expectError(c.renameTable(tid(['db'], 'nope'), tid(['db'], 'x')), NotFoundError, 'not-found', /table 'db\.nope' does not exist/);
        assert.equal(await c.tableExists(tid(['db'], 'x')), false);
      }));

      test('drop removes the entry but keeps the files', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema });
        await c.dropTable(tid(['db'], 't'));
        assert.equal(await c.tableExists(tid(['db'], 't')), false);
        assert.deepEqual(await c.listTables(['db']), []);
        assert.equal(await c.io.exists(t.metadataLocation), true);
      }));

      test('dropping a missing table fails with NotFoundError', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await expectError(c.dropTable(tid(['db'], 'nope')), NotFoundError, 'not-found', /table 'db\.nope' does not exist/);
        await expectError(c.dropTable(tid(['db'], 'nope'), { purge: true }), NotFoundError, 'not-found', /table 'db\.nope' does not exist/);
      }));

      test('drop with purge deletes what the metadata references and its metadata/ folder, nothing else', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema });
        const other = await c.createTable(tid(['db'], 't2'), { schema });
        await appendRecords(c, t.identifier, [{ id: 1n, data: 'a' }]);
        await appendRecords(c, t.identifier, [{ id: 2n, data: 'b' }]);
        const loaded = await c.loadTable(t.identifier);
        const referenced = [...await tableFiles(c.io, loaded.metadata, loaded.metadataLocation)].filter((f) => !f.endsWith('version-hint.text'));
        assert.ok(referenced.some((f) => f.endsWith('.parquet')) && referenced.some((f) => /snap-.*\.avro$/.test(f)), referenced.join(' '));
        // Java's purge deletes referenced files only: a stray data file stays; the metadata
        // folder's own files (a failed commit's leftover) go with the table.
        const stray = `${t.metadata.location}/data/stray.parquet`;
        await c.io.writeNew(stray, new Uint8Array([1, 2, 3]));
        const leftover = `${t.metadata.location}/metadata/00099-leftover.metadata.json`;
        await c.io.writeNew(leftover, new Uint8Array([1]));
        assert.deepEqual(await c.dropTable(t.identifier, { purge: true }), { deletedFiles: referenced.length + 1, sparedFiles: 0 });
        assert.equal(await c.tableExists(t.identifier), false);
        for (const f of [...referenced, leftover]) assert.equal(await c.io.exists(f), false, f);
        assert.deepEqual((await c.io.list(`${t.metadata.location}/`)).map((f) => f.uri), [stray]);
        assert.equal(await c.io.exists(other.metadataLocation), true);
      }));

      test('purge of a table with a corrupt manifest list fails naming the file, and drops nothing', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema });
        await appendRecords(c, t.identifier, [{ id: 1n, data: 'a' }]);
        const loaded = await c.loadTable(t.identifier);
        const list = loaded.metadata.snapshots[0]!.manifestList;
        await c.io.delete(list);
        await c.io.writeNew(list, new Uint8Array([0x4f, 0x62, 0x6a, 0x01, 0x04]));
        await expectError(c.dropTable(t.identifier, { purge: true }), InvalidMetadataError, 'invalid-metadata', new RegExp(`${escapeRe(list)}.*Avro`));
        assert.equal(await c.tableExists(t.identifier), true);
        assert.equal(await c.io.exists(loaded.metadataLocation), true);
      }));

      describe('locations never overlap', () => {
        test('a default location inside another table\'s is refused (namespace db.t, table x vs table db.t)', () => withCatalog(async (c) => {
          await c.createNamespace(['db']);
          const t = await c.createTable(tid(['db'], 't'), { schema });
          await c.createNamespace(['db', 't', 'data']);
          await expectError(c.createTable(tid(['db', 't', 'data'], 'x'), { schema }), ValidationError, 'validation', /overlaps table 'db\.t'/);
          assert.equal(await c.tableExists(tid(['db', 't', 'data'], 'x')), false);
          assert.deepEqual((await c.io.list(`${t.metadata.location}/`)).map((f) => f.uri), [t.metadataLocation]);
        }));

        test('a table around another is refused too (namespace a.b table c first, then a.b)', () => withCatalog(async (c) => {
          await c.createNamespace(['a', 'b']);
          await c.createTable(tid(['a', 'b'], 'c'), { schema });
          await expectError(c.createTable(tid(['a'], 'b'), { schema }), ValidationError, 'validation', /overlaps table 'a\.b\.c'/);
          assert.equal(await c.tableExists(tid(['a'], 'b')), false);
        }));

        test('explicit locations: same, inside, around, with trailing slash, file: spellings, dot segments', () => withCatalog(async (c) => {
          await c.createNamespace(['db']);
          const loc = (await c.createTable(tid(['db'], 't'), { schema })).metadata.location;
          const parent = loc.slice(0, loc.lastIndexOf('/'));
          const spellings = [loc, `${loc}/`, `${loc}//`, `${loc}/data/x`, parent, `${parent}/`];
          if (loc.startsWith('file://')) spellings.push(loc.replace(/^file:\/\//, ''), loc.replace(/^file:\/\//, 'file:'), `${loc.replace(/^file:\/\//, 'file:')}/metadata`);
          for (const location of spellings) {
            await expectError(c.createTable(tid(['db'], 'u'), { schema, location }), ValidationError, 'validation', /overlaps table 'db\.t'/);
          }
          await expectError(c.createTable(tid(['db'], 'u'), { schema, location: `${parent}/x/../t` }), ValidationError, 'validation', /'\.\.' segments/);
          await expectError(c.createTable(tid(['db'], 'u'), { schema, location: 'relative/dir' }), ValidationError, 'validation', /must be absolute/);
          assert.equal(await c.tableExists(tid(['db'], 'u')), false);
          // A sibling whose name merely starts with the same letters does not overlap.
          const sibling = await c.createTable(tid(['db'], 'u'), { schema, location: `${loc}2/` });
          assert.equal(sibling.metadata.location, `${loc}2`);
        }));

        test('concurrent creates of overlapping tables: never both, and a lost race leaves no file', () => withCatalog(async (c) => {
          await c.createNamespace(['db']);
          const probe = (await c.createTable(tid(['db'], 'probe'), { schema })).metadata.location;
          const outer = `${probe.slice(0, probe.lastIndexOf('/'))}/race`;
          for (let round = 0; round < 5; round++) {
            const results = await Promise.allSettled([
              c.createTable(tid(['db'], `outer${round}`), { schema, location: `${outer}${round}` }),
              c.createTable(tid(['db'], `inner${round}`), { schema, location: `${outer}${round}/data/x` }),
            ]);
            assert.ok(results.filter((r) => r.status === 'fulfilled').length <= 1, `round ${round}: both landed`);
            for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ValidationError, String(r.reason));
            const landed = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.metadataLocation] : []));
            assert.deepEqual((await c.io.list(`${outer}${round}/`)).map((f) => f.uri), landed);
          }
          const all = await c.listTableLocations();
          for (const a of all) for (const b of all) if (a !== b) assert.ok(!a.location.startsWith(`${b.location}/`) && a.location !== b.location, `${a.identifier} vs ${b.identifier}`);
        }));

        test('a folder that already holds files is refused', () => withCatalog(async (c) => {
          await c.createNamespace(['db']);
          const probe = (await c.createTable(tid(['db'], 'probe'), { schema })).metadata.location;
          const location = `${probe.slice(0, probe.lastIndexOf('/'))}/used`;
          await c.io.writeNew(`${location}/notes.txt`, new Uint8Array([1]));
          await expectError(c.createTable(tid(['db'], 'u'), { schema, location }), ValidationError, 'validation', /not empty/);
          assert.equal(await c.tableExists(tid(['db'], 'u')), false);
          assert.deepEqual((await c.io.list(`${location}/`)).length, 1);
        }));

        test('registerTable refuses metadata whose location overlaps another table', () => withCatalog(async (c) => {
          await c.createNamespace(['db']);
          const t = await c.createTable(tid(['db'], 't'), { schema });
          await expectError(c.registerTable(tid(['db'], 'copy'), t.metadataLocation), ValidationError, 'validation', /overlaps table 'db\.t'/);
          assert.equal(await c.tableExists(tid(['db'], 'copy')), false);
        }));

        test('set-location into another table\'s folder is refused; the table stays where it was', () => withCatalog(async (c) => {
          await c.createNamespace(['db']);
          const a = await c.createTable(tid(['db'], 'a'), { schema });
          const b = await c.createTable(tid(['db'], 'b'), { schema });
          for (const location of [`${a.metadata.location}/data/b`, a.metadata.location, a.metadata.location.slice(0, a.metadata.location.lastIndexOf('/'))]) {
            await expectError(c.commitTable(b.identifier, [], [{ action: 'set-location', location }]), ValidationError, 'validation', /overlaps table 'db\.a'/);
          }
          await expectError(c.commitTable(b.identifier, [], [{ action: 'set-location', location: `${b.metadata.location}/../x` }]), ValidationError, 'validation', /'\.\.' segments/);
          const now = await c.loadTable(b.identifier);
          assert.equal(now.metadataLocation, b.metadataLocation);
          // Its own folder, respelled, is fine.
          const moved = await c.commitTable(b.identifier, [], [{ action: 'set-location', location: `${b.metadata.location}/` }]);
          assert.equal(moved.metadata.location, b.metadata.location);
        }));

        test('listTableLocations lists every table with its location and metadata file', () => withCatalog(async (c) => {
          await c.createNamespace(['db']);
          const a = await c.createTable(tid(['db'], 'a'), { schema });
          const b = await c.createTable(tid(['db'], 'b'), { schema });
          const listed = (await c.listTableLocations()).sort((x, y) => x.identifier.localeCompare(y.identifier));
          assert.deepEqual(listed, [
            { identifier: 'db.a', location: a.metadata.location, metadataLocation: a.metadataLocation },
            { identifier: 'db.b', location: b.metadata.location, metadataLocation: b.metadataLocation },
          ]);
        }));
      });

      test('registerTable adds an existing metadata file', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema });
        const committed = await c.commitTable(t.identifier, [], [{ action: 'set-properties', updates: { k: 'v' } }]);
        await c.dropTable(t.identifier);
        const registered = await c.registerTable(tid(['db'], 'again'), committed.metadataLocation);
        assert.equal(registered.metadataLocation, committed.metadataLocation);
        assert.equal(registered.metadata.tableUuid, t.metadata.tableUuid);
        const loaded = await c.loadTable(tid(['db'], 'again'));
        assert.equal(loaded.metadataLocation, committed.metadataLocation);
        assert.deepEqual(loaded.metadata.properties, tblProps({ k: 'v' }));
        // The registered table takes commits like any other.
        const next = await c.commitTable(tid(['db'], 'again'), [], [{ action: 'set-properties', updates: { k: 'w' } }]);
        assert.match(next.metadataLocation, metadataFileRe('00002'));
      }));

      test('registerTable onto an existing name, a missing namespace or a missing file fails', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema });
        await expectError(c.registerTable(tid(['db'], 't'), t.metadataLocation), AlreadyExistsError, 'already-exists', /table 'db\.t' already exists/);
        await expectError(c.registerTable(tid(['nope'], 't'), t.metadataLocation), NotFoundError, 'not-found', /namespace 'nope'/);
        const missing = t.metadataLocation.replace(/00000-/, '00009-');
        await expectError(c.registerTable(tid(['db'], 'x'), missing), NotFoundError, 'not-found', /00009-/);
        assert.equal(await c.tableExists(tid(['db'], 'x')), false);
      }));
    });

    describe('invalid identifiers', () => {
      const bad = ['../x', 'a/b', 'bad name', '', '.hidden'];
      for (const part of bad) {
        test(`'${part}' is rejected with a ValidationError naming it`, () => withCatalog(async (c) => {
          await c.createNamespace(['db']);
          const quoted = new RegExp(`'${part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`);
          const e1 = await expectError(c.createNamespace([part]), ValidationError, 'validation', /invalid namespace name/);
          assert.match(e1.message, quoted);
          await expectError(c.createNamespace(['db', part]), ValidationError, 'validation', quoted);
          const e2 = await expectError(c.createTable(tid(['db'], part), { schema }), ValidationError, 'validation', /invalid table name/);
          assert.match(e2.message, quoted);
          await expectError(c.createTable(tid([part], 't'), { schema }), ValidationError, 'validation', quoted);
          await expectError(c.loadTable(tid(['db'], part)), ValidationError, 'validation', quoted);
          const t = await c.createTable(tid(['db'], 'ok'), { schema });
          await expectError(c.renameTable(t.identifier, tid(['db'], part)), ValidationError, 'validation', quoted);
          await expectError(c.registerTable(tid(['db'], part), t.metadataLocation), ValidationError, 'validation', quoted);
          assert.deepEqual(await c.listNamespaces(), [['db']]);
          assert.deepEqual(await c.listTables(['db']), [t.identifier]);
        }));
      }

      test('a table identifier without namespace is rejected', () => withCatalog(async (c) => {
        await expectError(c.createTable(tid([], 't'), { schema }), ValidationError, 'validation', /a namespace is required/);
      }));
    });

    describe('commitTable', () => {
      test('set-properties commits: 00001 file, pointer moves, metadata-log records the previous file', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema, properties: { keep: 'me' } });
        const committed = await c.commitTable(t.identifier,
          [{ type: 'assert-table-uuid', uuid: t.metadata.tableUuid }, { type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: null }],
          [{ action: 'set-properties', updates: { 'commit.retry.num-retries': '7' } }]);
        assert.match(committed.metadataLocation, metadataFileRe('00001'));
        assert.ok(committed.metadataLocation.startsWith(`${t.metadata.location}/metadata/`));
        assert.deepEqual(committed.metadata.properties, tblProps({ keep: 'me', 'commit.retry.num-retries': '7' }));
        assert.equal(committed.metadata.metadataLog.length, 1);
        assert.equal(committed.metadata.metadataLog[0]!.metadataFile, t.metadataLocation);
        assert.equal(committed.metadata.metadataLog[0]!.timestampMs, t.metadata.lastUpdatedMs);
        assert.ok(committed.metadata.lastUpdatedMs >= t.metadata.lastUpdatedMs);
        assert.equal(committed.metadata.tableUuid, t.metadata.tableUuid);

        const loaded = await c.loadTable(t.identifier);
        assert.equal(loaded.metadataLocation, committed.metadataLocation);
        assert.deepEqual(loaded.metadata, committed.metadata);
        assert.deepEqual(await metadataFiles(c, t), [t.metadataLocation, committed.metadataLocation].sort());
      }));

      test('remove-properties and a snapshot commit', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema, properties: { a: '1', b: '2' } });
        const snap = fakeSnapshot(t.metadata.location, 9007199254740993n, 1n);
        const next = await c.commitTable(t.identifier,
          [{ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: null }],
          [...appendUpdates(snap), { action: 'remove-properties', removals: ['a'] }]);
        const loaded = await c.loadTable(t.identifier);
        assert.equal(loaded.metadataLocation, next.metadataLocation);
        assert.deepEqual(loaded.metadata.properties, tblProps({ b: '2' }));
        assert.equal(loaded.metadata.currentSnapshotId, 9007199254740993n);
        assert.equal(loaded.metadata.lastSequenceNumber, 1n);
        assert.deepEqual(loaded.metadata.refs, { main: { snapshotId: 9007199254740993n, type: 'branch' } });
        assert.deepEqual(loaded.metadata.snapshots, [snap]);
      }));

      const failing: [string, (t: LoadedTable) => TableRequirement, RegExp][] = [
        ['assert-table-uuid', () => ({ type: 'assert-table-uuid', uuid: '00000000-0000-0000-0000-000000000000' }), /table uuid changed from 00000000-0000-0000-0000-000000000000/],
        ['assert-ref-snapshot-id', () => ({ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: 42n }), /branch 'main' moved: expected 42, found no snapshot/],
        ['assert-current-schema-id', () => ({ type: 'assert-current-schema-id', currentSchemaId: 5 }), /current schema changed from 5 to 0/],
      ];
      for (const [label, requirement, message] of failing) {
        test(`a failing ${label} gives CommitConflictError; pointer and metadata/ files unchanged`, () => withCatalog(async (c) => {
          await c.createNamespace(['db']);
          const t = await c.createTable(tid(['db'], 't'), { schema });
          const before = await metadataFiles(c, t);
          const e = await expectError<CommitConflictError>(
            c.commitTable(t.identifier, [requirement(t)], [{ action: 'set-properties', updates: { x: 'y' } }]),
            CommitConflictError, 'commit-conflict', message);
          assert.equal(e.retryable, true);
          const after = await c.loadTable(t.identifier);
          assert.equal(after.metadataLocation, t.metadataLocation);
          assert.deepEqual(after.metadata.properties, tblProps({}));
          assert.deepEqual(await metadataFiles(c, t), before);
        }));
      }

      test('committing to a missing table fails with NotFoundError', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        await expectError(c.commitTable(tid(['db'], 'nope'), [], [{ action: 'set-properties', updates: { a: 'b' } }]),
          NotFoundError, 'not-found', /table 'db\.nope' does not exist/);
      }));

      test('two commits on the same stale base: exactly one wins, the other gets CommitConflictError', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema });
        const stale: TableRequirement[] = [{ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: null }];
        const first = await c.commitTable(t.identifier, stale, appendUpdates(fakeSnapshot(t.metadata.location, 101n, 1n)));
        await expectError(c.commitTable(t.identifier, stale, appendUpdates(fakeSnapshot(t.metadata.location, 102n, 1n))),
          CommitConflictError, 'commit-conflict', /branch 'main' moved: expected no snapshot, found 101/);
        const loaded = await c.loadTable(t.identifier);
        assert.equal(loaded.metadataLocation, first.metadataLocation);
        assert.deepEqual(loaded.metadata.snapshots.map((s) => s.snapshotId), [101n]);
        assert.deepEqual(await metadataFiles(c, t), [t.metadataLocation, first.metadataLocation].sort());
      }));

      test('concurrent commits on one base: exactly one wins, losers leave no metadata file', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema });
        const stale: TableRequirement[] = [{ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: null }];
        const ids = [201n, 202n, 203n, 204n];
        const results = await Promise.allSettled(ids.map((id) =>
          c.commitTable(t.identifier, stale, appendUpdates(fakeSnapshot(t.metadata.location, id, 1n)))));
        const won = results.filter((r): r is PromiseFulfilledResult<LoadedTable> => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(won.length, 1);
        assert.equal(lost.length, ids.length - 1);
        for (const r of lost) {
          assert.ok(r.reason instanceof CommitConflictError, String(r.reason));
          assert.equal((r.reason as CommitConflictError).kind, 'commit-conflict');
        }
        const winner = won[0]!.value;
        const loaded = await c.loadTable(t.identifier);
        assert.equal(loaded.metadataLocation, winner.metadataLocation);
        assert.equal(loaded.metadata.snapshots.length, 1);
        assert.equal(loaded.metadata.currentSnapshotId, winner.metadata.currentSnapshotId);
        await assertMetadataFiles(c, t, loaded, [t.metadataLocation, winner.metadataLocation]);
      }));

      test('write.metadata.previous-versions-max=2 trims metadata-log to the 2 newest files', () => withCatalog(async (c) => {
        await c.createNamespace(['db']);
        const t = await c.createTable(tid(['db'], 't'), { schema, properties: { 'write.metadata.previous-versions-max': '2' } });
        const locations = [t.metadataLocation];
        let last = t;
        for (let i = 1; i <= 4; i++) {
          last = await c.commitTable(t.identifier, [], [{ action: 'set-properties', updates: { n: String(i) } }]);
          locations.push(last.metadataLocation);
          assert.equal(last.metadata.metadataLog.length, Math.min(i, 2));
        }
        assert.match(last.metadataLocation, metadataFileRe('00004'));
        const loaded = await c.loadTable(t.identifier);
        assert.deepEqual(loaded.metadata.metadataLog.map((e) => e.metadataFile), [locations[2], locations[3]]);
        assert.match(loaded.metadata.metadataLog[0]!.metadataFile, metadataFileRe('00002'));
        assert.match(loaded.metadata.metadataLog[1]!.metadataFile, metadataFileRe('00003'));
      }));
    });
  });
}
