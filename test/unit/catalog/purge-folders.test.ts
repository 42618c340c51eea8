// `table drop --purge` on a local warehouse removes the folders its deleted files leave empty —
// data/, partition folders, metadata/, the table folder — and only those: never a folder above
// the table's location, never one that still holds a file, never one inside another table's
// location (the purge's ownership rule, catalog/purge-files.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../catalog/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { uriToPath } from '../../../src/io/local-file-io.ts';
import { parsePartitionExpression } from '../../../src/spec/partition-spec.ts';
import { Schema } from '../../../src/spec/schema.ts';
import type { Catalog } from '../../../src/table/catalog.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { insertTableAt } from '../../support/legacy-nested-table.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];

const schema = new Schema(0, [
  { id: 1, name: 'id', required: true, type: { kind: 'long' } },
  { id: 2, name: 'cust', required: false, type: { kind: 'string' } },
]);
const T: TableIdentifier = { namespace: ['db'], name: 't' };

/** Every folder and file below `dir`, relative, folders with a trailing slash. */
async function tree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .map((e) => `${path.relative(dir, path.join(e.parentPath, e.name))}${e.isDirectory() ? '/' : ''}`).sort();
}

async function withCatalog(fn: (c: Catalog, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-purge-folders-'));
  const c = await openCatalog({ warehouse: dir });
  try {
    await c.createNamespace(['db']);
    await fn(c, dir);
  } finally {
    await c.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function partitionedTable(c: Catalog): Promise<string> {
  const t = await c.createTable(T, { schema, spec: parsePartitionExpression('cust', schema) });
  await appendRecords(c, T, [{ id: 1n, cust: 'a' }, { id: 2n, cust: 'b' }, { id: 3n, cust: null }]);
  await appendRecords(c, T, [{ id: 4n, cust: 'a' }]);
  return uriToPath(t.metadata.location);
}

describe('drop --purge removes the table\'s empty folders', () => {
  test('a partitioned table: its whole folder goes; the namespace folder and a sibling table stay', () => withCatalog(async (c, dir) => {
    const loc = await partitionedTable(c);
    const sibling = await c.createTable({ namespace: ['db'], name: 'u' }, { schema });
    await mkdir(path.join(uriToPath(sibling.metadata.location), 'data'));
    assert.deepEqual((await tree(loc)).filter((e) => e.endsWith('/')), ['data/', 'data/cust=a/', 'data/cust=b/', 'data/cust=null/', 'metadata/']);
    await c.dropTable(T, { purge: true });
    assert.equal(existsSync(loc), false, `${loc} left: ${(await tree(loc)).join(' ')}`);
    assert.ok(existsSync(path.join(dir, 'db')));
    // The sibling's empty data/ folder is not the purged table's.
    assert.deepEqual(await tree(uriToPath(sibling.metadata.location)), ['data/', 'metadata/', path.relative(uriToPath(sibling.metadata.location), uriToPath(sibling.metadataLocation))].sort());
  }));

  test('a folder holding a file the purge does not delete stays, with its parents; empty ones go', () => withCatalog(async (c) => {
    const loc = await partitionedTable(c);
    await writeFile(path.join(loc, 'data', 'cust=a', 'stray.parquet'), 'x');
    await mkdir(path.join(loc, 'data', 'empty', 'deeper'), { recursive: true });
    await c.dropTable(T, { purge: true });
    assert.deepEqual(await tree(loc), ['data/', 'data/cust=a/', 'data/cust=a/stray.parquet']);
  }));

  test('a symbolic link keeps its folder, and the cleanup never follows it', () => withCatalog(async (c, dir) => {
    const loc = await partitionedTable(c);
    const outside = path.join(dir, 'outside', 'empty');
    await mkdir(outside, { recursive: true });
    const { symlink } = await import('node:fs/promises');
    await symlink(path.join(dir, 'outside'), path.join(loc, 'data', 'link'));
    await c.dropTable(T, { purge: true });
    assert.deepEqual(await tree(loc), ['data/', 'data/link']);
    assert.ok(existsSync(outside));
  }));

  test('an inner table\'s purge removes its folder but not the outer table\'s; the outer\'s purge spares the inner', () => withCatalog(async (c, dir) => {
    const outer = await c.createTable({ namespace: ['db'], name: 'o' }, { schema });
    await appendRecords(c, outer.identifier, [{ id: 1n, cust: 'a' }]);
    const outerLoc = uriToPath(outer.metadata.location);
    const inner = { namespace: ['db', 'o', 'data'], name: 'x' };
    await insertTableAt(c, path.join(dir, 'catalog.db'), inner, `${outer.metadata.location}/data/x`, schema);
    await appendRecords(c, inner, [{ id: 2n, cust: 'b' }]);
    const outerBefore = (await tree(outerLoc)).filter((e) => !e.startsWith('data/x'));
    await c.dropTable(inner, { purge: true });
    assert.deepEqual(await tree(outerLoc), outerBefore);

    // Again, the other way round: an empty folder inside the inner table's location stays.
    const inner2 = { namespace: ['db', 'o', 'data'], name: 'y' };
    await insertTableAt(c, path.join(dir, 'catalog.db'), inner2, `${outer.metadata.location}/data/y`, schema);
    await mkdir(path.join(outerLoc, 'data', 'y', 'data', 'empty'), { recursive: true });
    const innerTree = await tree(path.join(outerLoc, 'data', 'y'));
    await c.dropTable(outer.identifier, { purge: true });
    assert.deepEqual(await tree(outerLoc), ['data/', 'data/y/', ...innerTree.map((e) => `data/y/${e}`)].sort());
  }));

  test('a table sharing its location with another: nothing deleted, no folder removed', () => withCatalog(async (c, dir) => {
    const loc = await partitionedTable(c);
    await insertTableAt(c, path.join(dir, 'catalog.db'), { namespace: ['db'], name: 'twin' }, `file://${loc}/`, schema);
    await mkdir(path.join(loc, 'data', 'empty'));
    const before = await tree(loc);
    assert.equal((await c.dropTable(T, { purge: true })).deletedFiles, 0);
    assert.deepEqual(await tree(loc), before);
  }));

  test('floe table drop --purge leaves no folder behind', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-purge-cli-'));
    try {
      const floe = async (...args: string[]): Promise<number> => runCli(['--warehouse', dir, ...args], {
        openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name }), stdout: () => undefined, stderr: () => undefined,
      });
      await writeFile(path.join(dir, 'schema.json'), JSON.stringify({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 'd', required: true, type: 'date' }] }));
      await writeFile(path.join(dir, 'rows.ndjson'), '{"id": 1, "d": "2026-03-01"}\n{"id": 2, "d": "2026-03-02"}\n');
      assert.equal(await floe('namespace', 'create', 'db'), 0);
      assert.equal(await floe('table', 'create', 'db.t', '--schema', path.join(dir, 'schema.json'), '--partition-by', 'day(d)'), 0);
      assert.equal(await floe('append', 'db.t', path.join(dir, 'rows.ndjson')), 0);
      assert.ok(existsSync(path.join(dir, 'db', 't', 'data', 'd_day=2026-03-02')));
      assert.equal(await floe('table', 'drop', 'db.t', '--purge'), 0);
      assert.deepEqual(await readdir(path.join(dir, 'db')), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
