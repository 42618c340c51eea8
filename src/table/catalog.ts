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
  readonly deletedFiles: number;
  /** Referenced files left alone because they lie in another table's location. */
  readonly sparedFiles: number;
}

export interface LoadedTable {
  readonly identifier: TableIdentifier;
  readonly metadata: TableMetadata;
  readonly metadataLocation: string;
}

export interface CreateTableOptions {
  readonly schema: Schema;
  readonly spec?: PartitionSpec;
  readonly sortOrder?: SortOrder;
  readonly properties?: Record<string, string>;
  /** Defaults to `<warehouse>/<namespace…>/<table>` (JdbcCatalog's layout). Must be absolute,
   * empty, and neither inside nor around another table's location. */
  readonly location?: string;
}

export interface Catalog {
  readonly name: string;
  readonly io: FileIO;

  createNamespace(namespace: readonly string[], properties?: Record<string, string>): Promise<void>;
  namespaceExists(namespace: readonly string[]): Promise<boolean>;
  /** Namespaces directly under `parent` (top level when omitted). */
  listNamespaces(parent?: readonly string[]): Promise<string[][]>;
  loadNamespaceProperties(namespace: readonly string[]): Promise<Record<string, string>>;
  updateNamespaceProperties(namespace: readonly string[], set: Record<string, string>, remove?: readonly string[]): Promise<void>;
  /** Fails with NamespaceNotEmptyError while the namespace holds tables. */
  dropNamespace(namespace: readonly string[]): Promise<void>;

  createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable>;
  loadTable(id: TableIdentifier): Promise<LoadedTable>;
  tableExists(id: TableIdentifier): Promise<boolean>;
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
  commitTable(id: TableIdentifier, requirements: readonly TableRequirement[], updates: readonly TableUpdate[]): Promise<LoadedTable>;

  close(): Promise<void>;
}
