// Every name exported here is public and documented; test/unit/api/public-api.test.ts pins the
// list. The entry points compose src/ (the core) with catalog/ and compaction/, which src/ never
// imports itself.
/**
 * floe's main entry point (`import … from 'floe'`): open a catalog, create and load Iceberg
 * tables, write rows (append, merge by key, delete by predicate), branches and tags, and
 * write-audit-publish. The subpaths `floe/ingest` (micro-batching from Kafka or NDJSON) and
 * `floe/compaction` (compaction and table maintenance) hold the rest.
 *
 * @example
 * ```ts
 * import { appendRecords, openCatalog, parseTableIdentifier } from 'floe';
 *
 * const catalog = await openCatalog({ warehouse: './warehouse' });
 * await appendRecords(catalog, parseTableIdentifier('shop.orders'), [{ id: 1, status: 'new' }]);
 * await catalog.close();
 * ```
 * @module floe
 */
// Catalogs and tables
export { openCatalog } from '../catalog/index.ts';
export type { CatalogConfig } from '../catalog/index.ts';
export type { Catalog, CommitTableOptions, CreateTableOptions, DropTableResult, LoadedTable } from '../src/table/catalog.ts';
export type { TableLocation } from '../src/table/table-location.ts';
export type { TableRequirement, TableUpdate } from '../src/spec/table-updates.ts';
export type { FileInfo, FileIO, OutputFile, RandomAccessBlob } from '../src/io/file-io.ts';
export { identifierToString, parseTableIdentifier } from '../src/table/identifier.ts';
export type { TableIdentifier } from '../src/table/identifier.ts';

// Schemas, partition specs, sort orders, table metadata
export { Schema, schemaFromJson, schemaToJson } from '../src/spec/schema.ts';
export type { IcebergType, ListType, MapType, NestedField, NestedType, PrimitiveType, PrimitiveTypeName, StructType } from '../src/spec/types.ts';
export { parsePartitionExpression } from '../src/spec/partition-spec.ts';
export type { PartitionField, PartitionSpec } from '../src/spec/partition-spec.ts';
export type { Transform } from '../src/spec/transforms.ts';
export type { SortField, SortOrder } from '../src/spec/sort-order.ts';
export { currentSchema, defaultSpec, MAIN_BRANCH } from '../src/spec/table-metadata.ts';
export type { MetadataLogEntry, Snapshot, SnapshotLogEntry, SnapshotRef, TableMetadata } from '../src/spec/table-metadata.ts';

// Writing rows
export { appendRecords, appendRecordStream } from '../src/transaction/append-records.ts';
export type { AppendOptions, AppendResult, RecordChunk, StreamAppendOptions } from '../src/transaction/append-records.ts';
export type { WriteStats } from '../src/writer/data-file-writer.ts';
export { mergeRecords } from '../src/merge/merge-records.ts';
export type { MergeOptions, MergeResult, MergeStats } from '../src/merge/merge-records.ts';
export { deleteWhere } from '../src/merge/delete-where.ts';
export type { DeleteWhereOptions, DeleteWhereResult } from '../src/merge/delete-where.ts';
export type { RowLevelMode } from '../src/merge/row-level-base.ts';
export type { CommitHooks, CommitOptions, CommitResult, RetryPolicy } from '../src/transaction/commit-with-retry.ts';

// Branches and tags
export { createBranch, createTag, dropRef, renameBranch, setRefRetention } from '../src/transaction/manage-refs.ts';
export type { CreateBranchOptions, CreateTagOptions, DropRefOptions, RefChange, RefRetention } from '../src/transaction/manage-refs.ts';

// Write-audit-publish
export { publishBranch, publishWapId } from '../src/wap/publish.ts';
export type { PublishOptions, PublishResult, PublishWapIdOptions, PublishedSnapshot } from '../src/wap/publish.ts';
export { auditAndPublish } from '../src/wap/audit-and-publish.ts';
export type { GateOptions, GateResult } from '../src/wap/audit-and-publish.ts';
export type { FailedCheckSummary } from '../src/wap/branch-status.ts';
export type { PublishKind } from '../src/wap/wap-metrics.ts';
export { CHECK_TYPES, loadAuditChecks, parseAuditChecks } from '../src/audit/index.ts';
export type { AuditCheck, AuditChecks, AuditReport, CheckBase, CheckLiteral, CheckResult, CheckScope, CheckSeverity, CheckType } from '../src/audit/index.ts';
export type { JsonValue } from '../src/audit/duckdb-session.ts';

// Errors
export {
  AlreadyExistsError, CommitConflictError, CommitStateUnknownError, DecodingError, FileIOError, FloeError, InternalError,
  InvalidMetadataError, NamespaceNotEmptyError, NotFoundError, RecordValidationError, UnsupportedError, ValidationError,
  ValueTypeError,
} from '../src/errors.ts';
export type { FloeErrorKind } from '../src/errors.ts';
export { PublishRefusedError } from '../src/wap/publish-errors.ts';
export type { RefusalReason } from '../src/wap/publish-errors.ts';
export { CherryPickConflictError } from '../src/transaction/cherry-pick.ts';
