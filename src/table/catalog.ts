// The catalog interface the core owns. A catalog keeps the pointer to each table's current
// metadata file and swaps it atomically; catalog/ implements it (SQL now, REST later).
import type { FileIO } from '../io/file-io.ts';
import type { PartitionSpec } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import type { SortOrder } from '../spec/sort-order.ts';
import type { TableMetadata } from '../spec/table-metadata.ts';
import type { TableRequirement, TableUpdate } from '../spec/table-updates.ts';
import type { TableIdentifier } from './identifier.ts';
import type { TableLocation } from './table-location.ts';

/** What a drop did to files (all zero without purge). */
export interface DropTableResult {
  /** Files deleted by the purge. */
  readonly deletedFiles: number;
  /** Referenced files left alone because they lie in another table's location. */
  readonly sparedFiles: number;
}

/** A table as loaded from the catalog: its current metadata and the file it was read from. */
export interface LoadedTable {
  /** The table's name. */
  readonly identifier: TableIdentifier;
  /** The table's metadata (schemas, specs, snapshots, refs, properties) at load time. */
  readonly metadata: TableMetadata;
  /** The metadata file the catalog pointed to (`…/metadata/00003-….metadata.json`). */
  readonly metadataLocation: string;
}

/** What a new table is made of: the argument of `Catalog.createTable`. */
export interface CreateTableOptions {
  /** The table's schema; build it with {@link schemaFromJson} (`assignIds: true` gives fresh field ids). */
  readonly schema: Schema;
  /** Partition spec (default unpartitioned); build it with {@link parsePartitionExpression}. */
  readonly spec?: PartitionSpec;
  /** Sort order (default unsorted). */
  readonly sortOrder?: SortOrder;
  /** Table properties under Iceberg's names (`write.target-file-size-bytes`, `write.merge.mode`,
   * `write.wap.enabled`, `commit.retry.num-retries`, `format-version`…). */
  readonly properties?: Record<string, string>;
  /** Defaults to `<warehouse>/<namespace…>/<table>` (JdbcCatalog's layout). Must be absolute,
   * empty, and neither inside nor around another table's location. */
  readonly location?: string;
}

/** How a commit's new files reach the catalog. */
export interface CommitTableOptions {
  /**
   * Writes of the files the updates reference (manifests, manifest list) still in flight,
   * started so that they overlap the catalog's own metadata-file write: the pointer moves only
   * once this resolves; if it rejects, nothing is swapped, the catalog's own new file is
   * removed, and its error is thrown.
   */
  readonly filesWritten?: Promise<void>;
}

/**
 * A catalog: it keeps the pointer to each table's current metadata file and swaps it atomically
 * on commit. Get one from {@link openCatalog}; every write function (appendRecords, mergeRecords,
 * compactTable…) takes it as first argument. Namespaces are arrays of names (`['shop']`), tables
 * are {@link TableIdentifier}s.
 *
 * @example
 * ```ts
 * const id = parseTableIdentifier('shop.orders');
 * if (!(await catalog.namespaceExists(id.namespace))) await catalog.createNamespace(id.namespace);
 * const schema = schemaFromJson({ type: 'struct', fields: [
 *   { name: 'id', type: 'long', required: true },
 *   { name: 'ts', type: 'timestamptz', required: true },
 * ] }, { assignIds: true });
 * await catalog.createTable(id, { schema, spec: parsePartitionExpression('day(ts)', schema) });
 * ```
 */
export interface Catalog {
  /** The catalog name (the `catalog_name` column of a SQL catalog). */
  readonly name: string;
  /** Reads and writes the tables' files (local disk or S3). */
  readonly io: FileIO;

  /** Creates a namespace; AlreadyExistsError if it exists. */
  createNamespace(namespace: readonly string[], properties?: Record<string, string>): Promise<void>;
  /** Whether the namespace exists. */
  namespaceExists(namespace: readonly string[]): Promise<boolean>;
  /** Namespaces directly under `parent` (top level when omitted). */
  listNamespaces(parent?: readonly string[]): Promise<string[][]>;
  /** The namespace's properties; NotFoundError if it does not exist. */
  loadNamespaceProperties(namespace: readonly string[]): Promise<Record<string, string>>;
  /** Sets and removes namespace properties. */
  updateNamespaceProperties(namespace: readonly string[], set: Record<string, string>, remove?: readonly string[]): Promise<void>;
  /** Fails with NamespaceNotEmptyError while the namespace holds tables. */
  dropNamespace(namespace: readonly string[]): Promise<void>;

  /** Creates a table (format version 2, no snapshot yet) and returns it; AlreadyExistsError if
   * the name is taken, ValidationError for a bad name or location. */
  createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable>;
  /** Loads the table's current metadata; NotFoundError if there is no such table. */
  loadTable(id: TableIdentifier): Promise<LoadedTable>;
  /** Whether the table exists. */
  tableExists(id: TableIdentifier): Promise<boolean>;
  /** The tables directly in a namespace. */
  listTables(namespace: readonly string[]): Promise<TableIdentifier[]>;
  /**
   * The location of every table the catalog's store knows (other catalog names sharing it
   * included): what create and register check for overlaps, and what orphan removal and
   * purge must never reach into.
   */
  listTableLocations(): Promise<TableLocation[]>;
  /** Removes the catalog entry; with purge also deletes the files the table's metadata
   * references and those directly in its metadata/ folder (never a folder tree, never a
   * file inside another table's location). A corrupt manifest fails the purge before the
   * entry is removed. */
  dropTable(id: TableIdentifier, opts?: { purge?: boolean }): Promise<DropTableResult>;
  /** Renames (or moves to another namespace) a table; its files stay where they are. */
  renameTable(from: TableIdentifier, to: TableIdentifier): Promise<void>;
  /** Adds an existing metadata file to the catalog under a new identifier; refused when
   * its location overlaps another table's. */
  registerTable(id: TableIdentifier, metadataLocation: string): Promise<LoadedTable>;

  /**
   * Checks the requirements against the current metadata, applies the updates, writes the new
   * metadata file and swaps the pointer atomically. Throws CommitConflictError when a
   * requirement fails or the pointer moved (nothing of this attempt stays visible), or
   * CommitStateUnknownError when the outcome cannot be known.
   */
  commitTable(id: TableIdentifier, requirements: readonly TableRequirement[], updates: readonly TableUpdate[], opts?: CommitTableOptions): Promise<LoadedTable>;

  /** Releases the catalog's connections and file handles; call once when done. */
  close(): Promise<void>;
}
