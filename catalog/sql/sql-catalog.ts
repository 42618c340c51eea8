// A catalog in SQL tables with exactly the schema of Iceberg's JdbcCatalog and pyiceberg's
// SqlCatalog, so Spark, Trino and pyiceberg open the very same catalog. The commit is one
// conditional UPDATE of `metadata_location` (compare-and-swap).
import {
  AlreadyExistsError, CommitConflictError, CommitStateUnknownError, FileIOError, NamespaceNotEmptyError, NotFoundError, ValidationError, errorMessage,
} from '../../src/errors.ts';
import PQueue from 'p-queue';
import { deleteAll, type FileIO } from '../../src/io/file-io.ts';
import type { Catalog, CommitTableOptions, CreateTableOptions, DropTableResult, LoadedTable } from '../../src/table/catalog.ts';
import { faultPoint } from '../../src/fault-points.ts';
import {
  identifierToString, namespaceToString, validateIdentifier, validateNamePart, type TableIdentifier,
} from '../../src/table/identifier.ts';
import {
  newMetadataFileLocation, newTableMetadata, parseTableMetadata, serializeTableMetadataBytes, type TableMetadata,
} from '../../src/spec/table-metadata.ts';
import {
  overlappingTable, validateTableLocation, type TableLocation,
} from '../../src/table/table-location.ts';
import { applyUpdates, checkRequirements, type TableRequirement, type TableUpdate } from '../../src/spec/table-updates.ts';
import { isUniqueViolation, type SqlDriver } from './sql-driver.ts';
import { checkLocationFree, overlapError, type LocationCheck } from '../location-check.ts';
import { purgeFiles, removeEmptyTableFolders } from '../purge-files.ts';

// DDL of Java's JdbcUtil (schema V1, with iceberg_type); property_value NOT NULL as in
// pyiceberg, the stricter of the two.
const CREATE_TABLES_SQL = `CREATE TABLE IF NOT EXISTS iceberg_tables (
  catalog_name VARCHAR(255) NOT NULL,
  table_namespace VARCHAR(255) NOT NULL,
  table_name VARCHAR(255) NOT NULL,
  metadata_location VARCHAR(1000),
  previous_metadata_location VARCHAR(1000),
  iceberg_type VARCHAR(5),
  PRIMARY KEY (catalog_name, table_namespace, table_name))`;
const CREATE_NAMESPACE_PROPERTIES_SQL = `CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
  catalog_name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL,
  property_key VARCHAR(255) NOT NULL,
  property_value VARCHAR(1000) NOT NULL,
  PRIMARY KEY (catalog_name, namespace, property_key))`;
const MAX_METADATA_BUFFERS = 2;
const TABLE_TYPE_CLAUSE = `(iceberg_type = 'TABLE' OR iceberg_type IS NULL)`;

interface TableRow { metadata_location: string | null }

/** `metadata/00000-<uuid>.metadata.json`, or its in-flight temp `.00000-<uuid>.metadata.json.<uuid>.tmp`. */

export class SqlCatalog implements Catalog {
  readonly name: string;
  readonly io: FileIO;
  private readonly db: SqlDriver;
  private readonly warehouse: string;

  private constructor(name: string, db: SqlDriver, io: FileIO, warehouse: string) {
    this.name = name;
    this.db = db;
    this.io = io;
    this.warehouse = warehouse.replace(/\/+$/, '');
  }

  /** Opens the catalog, creating its two tables when missing (like JdbcCatalog's init). */
  static async open(opts: { name: string; driver: SqlDriver; io: FileIO; warehouse: string }): Promise<SqlCatalog> {
    validateNamePart(opts.name, 'catalog name');
    // On PostgreSQL two processes running CREATE TABLE IF NOT EXISTS at once can collide on
    // the system catalog (a unique violation): the table then exists, which is all we need.
    const createIfMissing = (ddl: string, table: string): Promise<unknown> => opts.driver.execute(ddl).catch(async (err) => {
      const exists = await opts.driver.query(`SELECT 1 FROM ${table} WHERE 1 = 0`).then(() => true, () => false);
      if (!exists) throw err;
    });
    await createIfMissing(CREATE_TABLES_SQL, 'iceberg_tables');
    await createIfMissing(CREATE_NAMESPACE_PROPERTIES_SQL, 'iceberg_namespace_properties');
    // pyiceberg creates iceberg_tables without iceberg_type, and every query here names it: add
    // it as JdbcCatalog's V1 migration does (pyiceberg ignores the extra nullable column).
    const hasType = (): Promise<boolean> => opts.driver.query(`SELECT iceberg_type FROM iceberg_tables WHERE 1 = 0`).then(() => true, () => false);
    if (!(await hasType())) {
      // Another process may add it at the same moment; only a still-missing column is an error.
      await opts.driver.execute(`ALTER TABLE iceberg_tables ADD COLUMN iceberg_type VARCHAR(5)`).catch(async (err) => { if (!(await hasType())) throw err; });
    }
    return new SqlCatalog(opts.name, opts.driver, opts.io, opts.warehouse);
  }

  // ---------- namespaces ----------

  async createNamespace(namespace: readonly string[], properties: Record<string, string> = {}): Promise<void> {
    for (const p of namespace) validateNamePart(p, 'namespace name');
    if (namespace.length === 0) throw new ValidationError('namespace must not be empty');
    const exists = (): AlreadyExistsError => new AlreadyExistsError(`namespace '${namespaceToString(namespace)}' already exists`);
    if (await this.namespaceExists(namespace)) throw exists();
    // Java and pyiceberg mark a namespace with the property exists=true. One INSERT of all
    // rows, as JdbcCatalog does: of concurrent creates of one name exactly one succeeds, the
    // others hit the primary key (an UPDATE-then-INSERT would let two of them "succeed").
    const rows = Object.entries({ exists: 'true', ...properties });
    try {
      await this.db.execute(
        `INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`,
        rows.flatMap(([k, v]) => [this.name, namespaceToString(namespace), k, v]));
    } catch (err) {
      if (isUniqueViolation(err)) throw exists();
      throw err;
    }
  }

  async namespaceExists(namespace: readonly string[]): Promise<boolean> {
    const ns = namespaceToString(namespace);
    const like = `${escapeLike(ns)}.%`;
    const props = await this.db.query(
      `SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = ? AND (namespace = ? OR namespace LIKE ? ESCAPE '!') LIMIT 1`,
      [this.name, ns, like]);
    if (props.length > 0) return true;
    const tables = await this.db.query(
      `SELECT 1 FROM iceberg_tables WHERE catalog_name = ? AND (table_namespace = ? OR table_namespace LIKE ? ESCAPE '!') LIMIT 1`,
      [this.name, ns, like]);
    return tables.length > 0;
  }

  async listNamespaces(parent: readonly string[] = []): Promise<string[][]> {
    const rows = await this.db.query<{ ns: string }>(
      `SELECT DISTINCT namespace AS ns FROM iceberg_namespace_properties WHERE catalog_name = ?
       UNION SELECT DISTINCT table_namespace AS ns FROM iceberg_tables WHERE catalog_name = ?`,
      [this.name, this.name]);
    const out = new Map<string, string[]>();
    for (const { ns } of rows) {
      const parts = ns.split('.');
      if (parts.length <= parent.length || !parent.every((p, i) => parts[i] === p)) continue;
      const child = parts.slice(0, parent.length + 1);
      out.set(child.join('.'), child);
    }
    return [...out.values()].sort((a, b) => a.join('.').localeCompare(b.join('.')));
  }

  async loadNamespaceProperties(namespace: readonly string[]): Promise<Record<string, string>> {
    if (!(await this.namespaceExists(namespace))) throw new NotFoundError(`namespace '${namespaceToString(namespace)}' does not exist`);
    const rows = await this.db.query<{ property_key: string; property_value: string }>(
      `SELECT property_key, property_value FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?`,
      [this.name, namespaceToString(namespace)]);
    return Object.fromEntries(rows.map((r) => [r.property_key, r.property_value]));
  }

  async updateNamespaceProperties(namespace: readonly string[], set: Record<string, string>, remove: readonly string[] = []): Promise<void> {
    if (!(await this.namespaceExists(namespace))) throw new NotFoundError(`namespace '${namespaceToString(namespace)}' does not exist`);
    const ns = namespaceToString(namespace);
    for (const key of remove) {
      await this.db.execute(`DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ? AND property_key = ?`, [this.name, ns, key]);
    }
    await this.putNamespaceProperties(namespace, set);
  }

  private async putNamespaceProperties(namespace: readonly string[], props: Record<string, string>): Promise<void> {
    const ns = namespaceToString(namespace);
    for (const [k, v] of Object.entries(props)) {
      const changed = await this.db.execute(
        `UPDATE iceberg_namespace_properties SET property_value = ? WHERE catalog_name = ? AND namespace = ? AND property_key = ?`,
        [v, this.name, ns, k]);
      if (changed === 0) {
        await this.db.execute(
          `INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) VALUES (?, ?, ?, ?)`,
          [this.name, ns, k, v]).catch(async (err) => {
          // Another process inserted the key since our UPDATE: set it over theirs.
          if (!isUniqueViolation(err)) throw err;
          await this.db.execute(
            `UPDATE iceberg_namespace_properties SET property_value = ? WHERE catalog_name = ? AND namespace = ? AND property_key = ?`,
            [v, this.name, ns, k]);
        });
      }
    }
  }

  async dropNamespace(namespace: readonly string[]): Promise<void> {
    const ns = namespaceToString(namespace);
    if (!(await this.namespaceExists(namespace))) throw new NotFoundError(`namespace '${ns}' does not exist`);
    const tables = await this.listTables(namespace);
    const children = await this.listNamespaces(namespace);
    if (tables.length > 0 || children.length > 0) {
      throw new NamespaceNotEmptyError(`namespace '${ns}' is not empty: ${tables.length} table(s), ${children.length} child namespace(s)`);
    }
    await this.db.execute(`DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?`, [this.name, ns]);
  }

  // ---------- tables ----------

  async listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    const rows = await this.db.query<{ table_name: string }>(
      `SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND ${TABLE_TYPE_CLAUSE} ORDER BY table_name`,
      [this.name, namespaceToString(namespace)]);
    return rows.map((r) => ({ namespace: [...namespace], name: r.table_name }));
  }

  async tableExists(id: TableIdentifier): Promise<boolean> {
    return (await this.pointer(id)) !== undefined;
  }

  private async pointer(id: TableIdentifier): Promise<string | undefined> {
    const rows = await this.db.query<TableRow>(
      `SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND ${TABLE_TYPE_CLAUSE}`,
      [this.name, namespaceToString(id.namespace), id.name]);
    const loc = rows[0]?.metadata_location;
    return loc ?? undefined;
  }

  /** Metadata files never change once written, so parsed ones are cached by location:
   * a writer committing every few seconds then never re-reads what it just wrote. */
  private readonly metadataCache = new Map<string, TableMetadata>();

  private remember(location: string, metadata: TableMetadata): void {
    this.metadataCache.delete(location);
    this.metadataCache.set(location, metadata);
    if (this.metadataCache.size > 16) this.metadataCache.delete(this.metadataCache.keys().next().value!);
  }

  private async readMetadata(location: string): Promise<TableMetadata> {
    const cached = this.metadataCache.get(location);
    if (cached) return cached;
    const bytes = await this.io.read(location);
    const metadata = parseTableMetadata(new TextDecoder().decode(bytes), location);
    this.remember(location, metadata);
    return metadata;
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    validateIdentifier(id);
    const location = await this.pointer(id);
    if (location === undefined) throw new NotFoundError(`table '${identifierToString(id)}' does not exist in catalog '${this.name}'`);
    return { identifier: id, metadata: await this.readMetadata(location), metadataLocation: location };
  }

  defaultTableLocation(id: TableIdentifier): string {
    return `${this.warehouse}/${[...id.namespace, id.name].join('/')}`;
  }

  /** Table location by metadata file (files never change): a create reads each other
   * table's metadata once per process, not once per create, and never through the small
   * commit cache above (a writer's hot entries stay). */
  private readonly locationCache = new Map<string, string>();

  private async locationOf(metadataLocation: string): Promise<string> {
    const cached = this.locationCache.get(metadataLocation) ?? this.metadataCache.get(metadataLocation)?.location;
    if (cached !== undefined) return cached;
    let location: string;
    try {
      location = parseTableMetadata(new TextDecoder().decode(await this.io.read(metadataLocation)), metadataLocation).location;
    } catch {
      // An unreadable table still owns its folder: the one its metadata file sits in
      // (`<location>/metadata/…` unless write.metadata.path moved it).
      const m = /^(.*)\/metadata\/[^/]+$/.exec(metadataLocation);
      return m ? m[1]! : metadataLocation.slice(0, metadataLocation.lastIndexOf('/'));
    }
    if (this.locationCache.size >= 10_000) this.locationCache.clear();
    this.locationCache.set(metadataLocation, location);
    return location;
  }

  async listTableLocations(): Promise<TableLocation[]> {
    const rows = await this.db.query<{ catalog_name: string; table_namespace: string; table_name: string; metadata_location: string | null }>(
      `SELECT catalog_name, table_namespace, table_name, metadata_location FROM iceberg_tables WHERE ${TABLE_TYPE_CLAUSE}`);
    const out: TableLocation[] = [];
    const queue = new PQueue({ concurrency: 16 });
    await Promise.all(rows.map((r) => queue.add(async () => {
      if (r.metadata_location === null) return;
      const identifier = r.catalog_name === this.name ? `${r.table_namespace}.${r.table_name}` : `${r.table_namespace}.${r.table_name} (catalog '${r.catalog_name}')`;
      out.push({ identifier, location: await this.locationOf(r.metadata_location), metadataLocation: r.metadata_location });
    })));
    return out.sort((a, b) => (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0));
  }

  private locationCheck(): LocationCheck {
    return { io: this.io, overlapping: (location, self) => this.overlapping(location, self), tableExists: (id) => this.tableExists(id) };
  }

  /** The first other table whose location overlaps `location`, as written or through a
   * symbolic link (a link to another table's folder is that folder). */
  private async overlapping(location: string, self: string): Promise<TableLocation | undefined> {
    const tables = await this.listTableLocations();
    const written = overlappingTable(location, tables, self);
    if (written || !this.io.canonicalLocation) return written;
    const canonical = this.io.canonicalLocation.bind(this.io);
    const real = await Promise.all(tables.map(async (t) => ({ ...t, location: await canonical(t.location) })));
    const hit = overlappingTable(await canonical(location), real, self);
    return hit ? tables.find((t) => t.identifier === hit.identifier) : undefined;
  }


  /** After the INSERT: two creates of different tables at overlapping locations can both pass
   * the check; each sees the other here and backs out (neither keeps an overlap). */
  private async recheckAfterInsert(id: TableIdentifier, location: string, metadataLocation: string, ownsMetadataFile: boolean): Promise<void> {
    const clash = await this.overlapping(location, identifierToString(id));
    if (!clash) return;
    await this.db.execute(
      `DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?`,
      [this.name, namespaceToString(id.namespace), id.name, metadataLocation]);
    if (ownsMetadataFile) await this.io.delete(metadataLocation);
    throw overlapError(id, location, clash);
  }

  async createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> {
    validateIdentifier(id);
    const location = opts.location === undefined ? this.defaultTableLocation(id) : validateTableLocation(opts.location);
    if (!(await this.namespaceExists(id.namespace))) throw new NotFoundError(`namespace '${namespaceToString(id.namespace)}' does not exist (create it first)`);
    if (await this.tableExists(id)) throw new AlreadyExistsError(`table '${identifierToString(id)}' already exists`);
    await checkLocationFree(this.locationCheck(), id, location, { mustBeEmpty: true });
    const metadata = newTableMetadata({
      location,
      schema: opts.schema,
      ...(opts.spec ? { spec: opts.spec } : {}),
      ...(opts.sortOrder ? { sortOrder: opts.sortOrder } : {}),
      ...(opts.properties ? { properties: opts.properties } : {}),
    });
    const metadataLocation = newMetadataFileLocation(metadata.location, null);
    await this.io.writeNew(metadataLocation, serializeTableMetadataBytes(metadata));
    try {
      await this.db.execute(
        `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, 'TABLE')`,
        [this.name, namespaceToString(id.namespace), id.name, metadataLocation]);
    } catch (err) {
      await this.io.delete(metadataLocation);
      if (isUniqueViolation(err)) throw new AlreadyExistsError(`table '${identifierToString(id)}' already exists`);
      throw err;
    }
    await this.recheckAfterInsert(id, location, metadataLocation, true);
    return { identifier: id, metadata, metadataLocation };
  }

  async registerTable(id: TableIdentifier, metadataLocation: string): Promise<LoadedTable> {
    validateIdentifier(id);
    if (!(await this.namespaceExists(id.namespace))) throw new NotFoundError(`namespace '${namespaceToString(id.namespace)}' does not exist`);
    if (await this.tableExists(id)) throw new AlreadyExistsError(`table '${identifierToString(id)}' already exists`);
    const metadata = await this.readMetadata(metadataLocation);
    await checkLocationFree(this.locationCheck(), id, metadata.location, { mustBeEmpty: false });
    try {
      await this.db.execute(
        `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, 'TABLE')`,
        [this.name, namespaceToString(id.namespace), id.name, metadataLocation]);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError(`table '${identifierToString(id)}' already exists`);
      throw err;
    }
    await this.recheckAfterInsert(id, metadata.location, metadataLocation, false);
    return { identifier: id, metadata, metadataLocation };
  }

  async dropTable(id: TableIdentifier, opts: { purge?: boolean } = {}): Promise<DropTableResult> {
    // A purge reads every manifest before the entry goes: a corrupt one fails the drop,
    // naming the file, rather than leaving a dropped table with files nobody can find.
    const { doomed, spared, tidy } = opts.purge ? await this.purgeList(id) : { doomed: [], spared: 0, tidy: undefined };
    const changed = await this.db.execute(
      `DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND ${TABLE_TYPE_CLAUSE}`,
      [this.name, namespaceToString(id.namespace), id.name]);
    if (changed === 0) throw new NotFoundError(`table '${identifierToString(id)}' does not exist`);
    const failed = await deleteAll(this.io, doomed);
    if (failed.length > 0) {
      throw new FileIOError(`dropped table '${identifierToString(id)}' but could not delete ${failed.length} of its ${doomed.length} file(s), e.g. ${failed[0]}`);
    }
    // The folders the deleted files leave empty go too (local disks; never another table's).
    await tidy?.();
    return { deletedFiles: doomed.length, sparedFiles: spared };
  }

  /** What a purge deletes (catalog/purge-files.ts): never a file inside another table's location;
   * `tidy` then removes the table's folders left empty. */
  private async purgeList(id: TableIdentifier): Promise<{ doomed: string[]; spared: number; tidy: () => Promise<number> }> {
    const self = identifierToString(id);
    const table = await this.loadTable(id);
    const others = (await this.listTableLocations()).filter((t) => t.identifier !== self);
    return { ...await purgeFiles(this.io, table, others), tidy: () => removeEmptyTableFolders(this.io, table.metadata.location, others) };
  }

  async renameTable(from: TableIdentifier, to: TableIdentifier): Promise<void> {
    validateIdentifier(to);
    if (!(await this.namespaceExists(to.namespace))) throw new NotFoundError(`namespace '${namespaceToString(to.namespace)}' does not exist`);
    let changed: number;
    try {
      changed = await this.db.execute(
        `UPDATE iceberg_tables SET table_namespace = ?, table_name = ? WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND ${TABLE_TYPE_CLAUSE}`,
        [namespaceToString(to.namespace), to.name, this.name, namespaceToString(from.namespace), from.name]);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError(`table '${identifierToString(to)}' already exists`);
      throw err;
    }
    if (changed === 0) throw new NotFoundError(`table '${identifierToString(from)}' does not exist`);
  }

  /** Buffers the metadata files of earlier commits were built in, free for the next ones. */
  private readonly metadataBuffers: ArrayBuffer[] = [];

  async commitTable(id: TableIdentifier, requirements: readonly TableRequirement[], updates: readonly TableUpdate[], opts: CommitTableOptions = {}): Promise<LoadedTable> {
    try {
      return await this.commitAfterWrites(id, requirements, updates, opts.filesWritten);
    } finally {
      // Whatever failed, the caller's writes have settled before it hears of it.
      await opts.filesWritten?.catch(() => undefined);
    }
  }

  private async commitAfterWrites(id: TableIdentifier, requirements: readonly TableRequirement[], updates: readonly TableUpdate[], filesWritten: Promise<void> | undefined): Promise<LoadedTable> {
    const base = await this.loadTable(id);
    checkRequirements(base.metadata, requirements);
    // A new location must not overlap another table's any more than a created one may.
    for (const u of updates) {
      if (u.action !== 'set-location') continue;
      validateTableLocation(u.location);
      const clash = await this.overlapping(u.location, identifierToString(id));
      if (clash) throw overlapError(id, u.location, clash);
    }
    const next = applyUpdates(base.metadata, base.metadataLocation, updates);
    const nextLocation = newMetadataFileLocation(next.location, base.metadataLocation);
    // Into a buffer of an earlier commit when one is free (concurrent commits of this process
    // each take their own): writeNew is done with the bytes once it returns.
    const buffer = this.metadataBuffers.pop();
    const bytes = serializeTableMetadataBytes(next, buffer ?? new ArrayBuffer(0));
    const own = this.io.writeNew(nextLocation, bytes);
    try {
      // The metadata file is written beside the caller's files; both must be on disk before the
      // pointer names them.
      const [mine, theirs] = await Promise.allSettled([own, filesWritten]);
      if (mine.status === 'rejected') throw mine.reason;
      if (theirs.status === 'rejected') {
        await this.io.delete(nextLocation);
        throw theirs.reason;
      }
    } finally {
      if (this.metadataBuffers.length < MAX_METADATA_BUFFERS) this.metadataBuffers.push(bytes.buffer as ArrayBuffer);
    }
    faultPoint('commit.after-metadata-file');
    let changed: number;
    try {
      changed = await this.db.execute(
        `UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?
         WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ? AND ${TABLE_TYPE_CLAUSE}`,
        [nextLocation, base.metadataLocation, this.name, namespaceToString(id.namespace), id.name, base.metadataLocation]);
    } catch (err) {
      if (this.db.failedStatementIsDefinite) {
        await this.io.delete(nextLocation);
        throw new CommitConflictError(`commit to '${identifierToString(id)}' failed: ${errorMessage(err)}`, { cause: err });
      }
      const now = await this.pointer(id).catch(() => undefined);
      if (now === nextLocation) return { identifier: id, metadata: next, metadataLocation: nextLocation };
      throw new CommitStateUnknownError(`commit to '${identifierToString(id)}' may or may not have landed: ${errorMessage(err)}`, { cause: err });
    }
    if (changed !== 1) {
      await this.io.delete(nextLocation);
      throw new CommitConflictError(`table '${identifierToString(id)}' was updated by another writer`);
    }
    this.remember(nextLocation, next);
    faultPoint('commit.after-catalog-swap');
    return { identifier: id, metadata: next, metadataLocation: nextLocation };
  }

  async close(): Promise<void> {
    this.io.close?.();
    await this.db.close();
  }
}

function escapeLike(s: string): string {
  return s.replace(/[!%_]/g, (c) => `!${c}`);
}
