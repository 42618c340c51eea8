// A catalog in SQL tables with exactly the schema of Iceberg's JdbcCatalog and pyiceberg's
// SqlCatalog, so Spark, Trino and pyiceberg open the very same catalog. The commit is one
// conditional UPDATE of `metadata_location` (compare-and-swap).
import { AlreadyExistsError, CommitConflictError, CommitStateUnknownError, NamespaceNotEmptyError, NotFoundError, ValidationError, errorMessage } from '../../src/errors.ts';
import { faultPoint } from '../../src/fault-points.ts';
import type { FileIO } from '../../src/io/file-io.ts';
import type { Catalog, CreateTableOptions, LoadedTable } from '../../src/table/catalog.ts';
import {
  identifierToString, namespaceToString, validateIdentifier, validateNamePart, type TableIdentifier,
} from '../../src/table/identifier.ts';
import {
  newMetadataFileLocation, newTableMetadata, parseTableMetadata, serializeTableMetadata, type TableMetadata,
} from '../../src/spec/table-metadata.ts';
import { applyUpdates, checkRequirements, type TableRequirement, type TableUpdate } from '../../src/spec/table-updates.ts';
import { isUniqueViolation, type SqlDriver } from './sql-driver.ts';

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
const TABLE_TYPE_CLAUSE = `(iceberg_type = 'TABLE' OR iceberg_type IS NULL)`;

interface TableRow { metadata_location: string | null }

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
    await opts.driver.execute(CREATE_TABLES_SQL);
    await opts.driver.execute(CREATE_NAMESPACE_PROPERTIES_SQL);
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
    if (await this.namespaceExists(namespace)) throw new AlreadyExistsError(`namespace '${namespaceToString(namespace)}' already exists`);
    // Java and pyiceberg mark a namespace with the property exists=true.
    await this.putNamespaceProperties(namespace, { exists: 'true', ...properties });
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
          [this.name, ns, k, v]);
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

  async createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> {
    validateIdentifier(id);
    if (!(await this.namespaceExists(id.namespace))) throw new NotFoundError(`namespace '${namespaceToString(id.namespace)}' does not exist (create it first)`);
    if (await this.tableExists(id)) throw new AlreadyExistsError(`table '${identifierToString(id)}' already exists`);
    const metadata = newTableMetadata({
      location: opts.location ?? this.defaultTableLocation(id),
      schema: opts.schema,
      ...(opts.spec ? { spec: opts.spec } : {}),
      ...(opts.sortOrder ? { sortOrder: opts.sortOrder } : {}),
      ...(opts.properties ? { properties: opts.properties } : {}),
    });
    const metadataLocation = newMetadataFileLocation(metadata.location, null);
    await this.io.writeNew(metadataLocation, new TextEncoder().encode(serializeTableMetadata(metadata)));
    try {
      await this.db.execute(
        `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, 'TABLE')`,
        [this.name, namespaceToString(id.namespace), id.name, metadataLocation]);
    } catch (err) {
      await this.io.delete(metadataLocation);
      if (isUniqueViolation(err)) throw new AlreadyExistsError(`table '${identifierToString(id)}' already exists`);
      throw err;
    }
    return { identifier: id, metadata, metadataLocation };
  }

  async registerTable(id: TableIdentifier, metadataLocation: string): Promise<LoadedTable> {
    validateIdentifier(id);
    if (!(await this.namespaceExists(id.namespace))) throw new NotFoundError(`namespace '${namespaceToString(id.namespace)}' does not exist`);
    const metadata = await this.readMetadata(metadataLocation);
    try {
      await this.db.execute(
        `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, 'TABLE')`,
        [this.name, namespaceToString(id.namespace), id.name, metadataLocation]);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError(`table '${identifierToString(id)}' already exists`);
      throw err;
    }
    return { identifier: id, metadata, metadataLocation };
  }

  async dropTable(id: TableIdentifier, opts: { purge?: boolean } = {}): Promise<void> {
    const table = opts.purge ? await this.loadTable(id) : undefined;
    const changed = await this.db.execute(
      `DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND ${TABLE_TYPE_CLAUSE}`,
      [this.name, namespaceToString(id.namespace), id.name]);
    if (changed === 0) throw new NotFoundError(`table '${identifierToString(id)}' does not exist`);
    if (table) {
      for (const f of await this.io.list(`${table.metadata.location}/`)) await this.io.delete(f.uri);
    }
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

  async commitTable(id: TableIdentifier, requirements: readonly TableRequirement[], updates: readonly TableUpdate[]): Promise<LoadedTable> {
    const base = await this.loadTable(id);
    checkRequirements(base.metadata, requirements);
    const next = applyUpdates(base.metadata, base.metadataLocation, updates);
    const nextLocation = newMetadataFileLocation(next.location, base.metadataLocation);
    await this.io.writeNew(nextLocation, new TextEncoder().encode(serializeTableMetadata(next)));
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

  async close(): Promise<void> { await this.db.close(); }
}

function escapeLike(s: string): string {
  return s.replace(/[!%_]/g, (c) => `!${c}`);
}
