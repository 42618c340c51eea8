// Every reader through every catalog (issue 11): floe writes the every-type tables of the round
// trip (all-types-tables.ts) through its PostgreSQL catalog and through Apache Iceberg's REST
// catalog server, each on a local warehouse and on an S3 one (SeaweedFS, scripts/s3.sh), in five
// snapshots — two appends, a DELETE … WHERE and a MERGE, both merge-on-read (position deletes),
// then a Flink-style upsert MERGE (write.upsert.enabled: equality deletes) — and pyiceberg,
// DuckDB, Spark and Trino, each pointed at the same catalog (not at a metadata file), return
// exactly the rows written: the current snapshot, and the position-delete one by id. pyiceberg
// 0.12 refuses equality deletes (EQUALITY_DELETES_SUPPORT), which is asserted too.
//   pyiceberg: SqlCatalog(postgresql+psycopg2://…) / RestCatalog(uri); S3: s3.* properties
//   DuckDB:    iceberg_scan of the metadata location in iceberg_tables (PostgreSQL) /
//              ATTACH '' (TYPE iceberg, ENDPOINT …, AUTHORIZATION_TYPE 'none') (REST);
//              S3: CREATE SECRET (TYPE s3, …, URL_STYLE 'path', USE_SSL false)
//   Spark:     SparkCatalog type jdbc (jdbc:postgresql://…, catalog named like catalog_name) /
//              type rest; S3: io-impl S3FileIO + s3.* (iceberg-aws-bundle on the class path)
//   Trino:     iceberg.catalog.type=jdbc (PostgreSQL driver bundled in Trino's plugin) / rest;
//              S3: fs.native-s3.enabled, s3.endpoint, s3.path-style-access, s3.aws-access-key …
// The PostgreSQL catalog is a fresh database of scripts/pg.sh; each REST server is this file's
// own (startOwnRestCatalog), so no other file's reset can drop its tables mid-run; each S3 case
// has a fresh bucket. Spark's JVM and Trino start once for the file. Under CI=true a missing
// reader or service fails (outside CI, FLOE_SKIP_S3=1 skips the S3 cases).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openCatalog } from '../../catalog/index.ts';
import { deleteWhere } from '../../src/merge/delete-where.ts';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import type { Schema } from '../../src/spec/schema.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { pathToUri } from '../../src/io/local-file-io.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';
import { ALL_TYPES_TABLES, allTypesSchema, allTypesTableFor, type AllTypesTable } from '../support/all-types-tables.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { generateRows } from '../support/datagen.ts';
import { postgresUnavailable, testDatabase } from '../support/postgres.ts';
import { ALL_READERS, EQUALITY_DELETES_SUPPORT, ReaderServer, floeS3Properties, readersUnavailable, type ReaderCatalog, type ReaderS3 } from '../support/readers.ts';
import { startOwnRestCatalog } from '../support/rest.ts';
import { emptyAndDeleteBucket, ensureS3, freshBucket, s3Unavailable } from '../support/s3.ts';

const NS = 'interop';
const noReaders = readersUnavailable();

interface Written {
  schema: Schema;
  /** Snapshot ids and the canonical rows each one holds, oldest first. */
  snapshots: { id: bigint; operation: string; rows: Record<string, unknown>[] }[];
}

/** An open catalog of one kind: floe's side, the readers' side, and how to remove it. */
interface CatalogUnderTest {
  floe: Catalog;
  reader: ReaderCatalog;
  /** The URI every table location must start with (proves which storage the files are on). */
  warehouseUri: string;
  cleanup(): Promise<void>;
}

/** Where table files live: a temp folder, or a fresh bucket on scripts/s3.sh's server. */
interface Storage { warehouse: string; s3?: ReaderS3; cleanup(): Promise<void> }

async function localWarehouse(): Promise<Storage> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-readers-'));
  return { warehouse: dir, async cleanup() { if (!process.env.FLOE_KEEP_TEST_DATA) await rm(dir, { recursive: true, force: true }); } };
}

async function s3Warehouse(label: string): Promise<Storage> {
  const server = await ensureS3();
  const bucket = await freshBucket(server, `floe-readers-${label}`);
  return {
    warehouse: `s3://${bucket}/warehouse`,
    s3: { endpoint: server.endpoint, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, region: server.region },
    async cleanup() { if (!process.env.FLOE_KEEP_TEST_DATA) await emptyAndDeleteBucket(server, bucket); },
  };
}

/** floe's PostgreSQL catalog (a fresh database of scripts/pg.sh) on `storage`. */
async function openPostgres(storage: Storage): Promise<CatalogUnderTest> {
  const db = await testDatabase('floe_readers');
  const floe = await openCatalog({ warehouse: storage.warehouse, uri: db.uri, properties: floeS3Properties(storage.s3) })
    .catch(async (err: unknown) => { await db.drop(); await storage.cleanup(); throw err; });
  return {
    floe, reader: { kind: 'postgres', uri: db.uri, warehouse: storage.warehouse, name: 'floe', ...(storage.s3 ? { s3: storage.s3 } : {}) },
    warehouseUri: storage.s3 ? storage.warehouse : pathToUri(storage.warehouse),
    async cleanup() { await floe.close(); await db.drop(); await storage.cleanup(); },
  };
}

/** This file's own REST server, its warehouse a folder of its own or an s3:// bucket. */
async function openRest(storage: Storage | undefined): Promise<CatalogUnderTest> {
  const server = await startOwnRestCatalog(storage?.s3 ? { warehouse: storage.warehouse, ...storage.s3 } : undefined);
  const floe = await openCatalog({ warehouse: server.warehouseDir || server.warehouseUri, uri: `rest+${server.uri}`, name: 'rest', properties: floeS3Properties(storage?.s3) })
    .catch(async (err: unknown) => { await server.stop(); await storage?.cleanup(); throw err; });
  return {
    floe, reader: { kind: 'rest', uri: server.uri, name: 'rest', ...(storage?.s3 ? { s3: storage.s3 } : {}) },
    warehouseUri: server.warehouseUri,
    async cleanup() { await floe.close(); await server.stop(); await storage?.cleanup(); },
  };
}

const pgSkip = noReaders ?? await postgresUnavailable();
const s3Skip = noReaders ?? await s3Unavailable();
const CATALOGS: { label: string; skip: string | undefined; open(): Promise<CatalogUnderTest> }[] = [
  { label: 'PostgreSQL (JdbcCatalog tables), local warehouse', skip: pgSkip, open: async () => openPostgres(await localWarehouse()) },
  // The server is started by open(); a start failure fails the tests, never skips them.
  { label: 'REST (Apache Iceberg RESTCatalogServer), local warehouse', skip: noReaders, open: () => openRest(undefined) },
  { label: 'PostgreSQL (JdbcCatalog tables), S3 warehouse', skip: pgSkip ?? s3Skip, open: async () => openPostgres(await s3Warehouse('pg')) },
  { label: 'REST (RESTCatalogServer with S3FileIO), S3 warehouse', skip: s3Skip, open: async () => openRest(await s3Warehouse('rest')) },
];

/** Writes one every-type table in five snapshots; returns what each snapshot holds. */
async function writeTable(catalog: Catalog, name: AllTypesTable): Promise<Written> {
  const id = { namespace: [NS], name };
  // A key (Iceberg identifier field) for the MERGEs; upsert mode for the last one (the others
  // choose merge-on-read explicitly, which overrides it).
  const schema = schemaWithKey(allTypesSchema(name), ['id']);
  await catalog.createTable(id, { schema, properties: { 'write.upsert.enabled': 'true' } });
  const live = new Map<bigint, Record<string, unknown>>();
  const snapshots: Written['snapshots'] = [];
  const record = (snapshotId: bigint | undefined, operation: string): void => {
    assert.ok(snapshotId !== undefined, `${name}: ${operation} committed nothing`);
    snapshots.push({ id: snapshotId, operation, rows: canonicalRows(schema, [...live.values()]) });
  };
  for (const [seed, firstId] of [[3100, 0], [3101, 1000]] as const) {
    const rows = generateRows(schema, 150, seed, firstId);
    const r = await appendRecords(catalog, id, rows.map((x) => x.input));
    for (const x of rows) live.set(x.values.id as bigint, x.values);
    record(r.snapshot.snapshotId, 'append');
  }
  // Part of the first file: position deletes, not a dropped file.
  const del = await deleteWhere(catalog, id, 'id >= 20 AND id < 60');
  assert.equal(del.mode, 'merge-on-read');
  assert.equal(del.deletedRows, 40);
  for (const [k] of live) if (k >= 20n && k < 60n) live.delete(k);
  record(del.snapshot?.snapshotId, 'delete');
  // Updates of ids 100..129 (in the first file) and 20 new ids.
  const changes = [...generateRows(schema, 30, 3102, 100), ...generateRows(schema, 20, 3103, 5000)];
  const merged = await mergeRecords(catalog, id, changes.map((x) => x.input), { mode: 'merge-on-read' });
  assert.equal(merged.mode, 'merge-on-read');
  assert.deepEqual([merged.updated, merged.inserted], [30, 20]);
  for (const x of changes) live.set(x.values.id as bigint, x.values);
  record(merged.snapshot?.snapshotId, 'merge');
  // Upserts of ids 1000..1019 (second file) and 5000..5004 (the MERGE's file), deletes of 1100..1104.
  const upserts = [...generateRows(schema, 20, 3104, 1000), ...generateRows(schema, 5, 3105, 5000)];
  const deletes = [1100, 1101, 1102, 1103, 1104];
  const upserted = await mergeRecords(catalog, id, [
    ...upserts.map((x) => ({ ...x.input, op: 'u' })), ...deletes.map((k) => ({ id: k, op: 'd' })),
  ], { opField: 'op' });
  assert.equal(upserted.mode, 'equality-deletes');
  for (const x of upserts) live.set(x.values.id as bigint, x.values);
  for (const k of deletes) live.delete(BigInt(k));
  record(upserted.snapshot?.snapshotId, 'upsert');
  // The row-level snapshots really hold the delete files they are meant to test.
  const meta = (await catalog.loadTable(id)).metadata;
  for (const [s, kind] of [[snapshots[2]!, 'position'], [snapshots[3]!, 'position'], [snapshots[4]!, 'equality']] as const) {
    const summary = meta.snapshots.find((x) => x.snapshotId === s.id)?.summary ?? {};
    assert.ok(Number(summary[`added-${kind}-deletes`] ?? 0) > 0, `${name} ${s.operation}: no ${kind} deletes in ${JSON.stringify(summary)}`);
  }
  return { schema, snapshots };
}

describe('every reader through every catalog: round trip of every type with position and equality deletes', { skip: noReaders }, () => {
  let readers: ReaderServer;
  before(() => { readers = new ReaderServer(); });
  after(async () => { await readers?.close(); });

  for (const c of CATALOGS) {
    describe(c.label, () => {
      const skip = c.skip;
      let cat: CatalogUnderTest | undefined;
      const tables = new Map<AllTypesTable, Written>();

      before(async () => {
        if (skip) return;
        cat = await c.open();
        await cat.floe.createNamespace([NS]);
        for (const [name] of ALL_TYPES_TABLES) {
          tables.set(name, await writeTable(cat.floe, name));
          const { location } = (await cat.floe.loadTable({ namespace: [NS], name })).metadata;
          assert.ok(location.startsWith(`${cat.warehouseUri}/`), `${name} at ${location}, not under ${cat.warehouseUri}`);
        }
      });
      after(async () => { await cat?.cleanup(); });

      for (const reader of ALL_READERS) {
        const eq = EQUALITY_DELETES_SUPPORT[reader];
        test(`${reader} reads exactly the position-delete snapshot by id, and ${eq === 'reads' ? 'the current one (equality deletes)' : 'refuses the current one (equality deletes)'}`, { skip }, async () => {
          const { schema, snapshots } = tables.get(allTypesTableFor(reader))!;
          const table = `${NS}.${allTypesTableFor(reader)}`;
          const merge = snapshots[3]!;
          const old = await readers.read({ reader, catalog: cat!.reader, table, snapshotId: merge.id });
          assert.deepStrictEqual(normalizeRows(schema, old.rows), merge.rows, `snapshot ${merge.id} (after DELETE and MERGE: position deletes)`);
          const current = await readers.read({ reader, catalog: cat!.reader, table }).catch((e: unknown) => e as Error);
          if (eq === 'reads') {
            assert.ok(!(current instanceof Error), `${reader}: ${current instanceof Error ? current.message : ''}`);
            assert.deepStrictEqual(normalizeRows(schema, current.rows), snapshots.at(-1)!.rows, 'current snapshot (upsert: equality deletes)');
          } else {
            assert.ok(current instanceof Error, `${reader} was expected to refuse equality deletes, but returned ${current instanceof Error ? '' : current.rows.length} rows`);
            assert.match(current.message, /equality/i);
          }
        });
      }
    });
  }
});
