// The catalog interface the core owns. A catalog keeps the pointer to each table's current
// metadata file and swaps it atomically; catalog/ implements it (SQL now, REST later).
import type { FileIO } from '../io/file-io.ts';
import type { PartitionSpec } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import type { SortOrder } from '../spec/sort-order.ts';
import type { TableMetadata } from '../spec/table-metadata.ts';
import type { TableRequirement, TableUpdate } from '../spec/table-updates.ts';
import type { TableIdentifier } from './identifier.ts';

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
  /** Defaults to `<warehouse>/<namespace…>/<table>`. */
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
  /** Removes the catalog entry; with purge also deletes the table's files. */
  dropTable(id: TableIdentifier, opts?: { purge?: boolean }): Promise<void>;
  renameTable(from: TableIdentifier, to: TableIdentifier): Promise<void>;
  /** Adds an existing metadata file to the catalog under a new identifier. */
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
