// The whole append path for plain records: write data files with the table's schema, spec
// and properties, then commit them with a fast append and retries. Nothing becomes visible
// unless the commit lands; files of a definitely failed commit are removed.
import { CommitStateUnknownError, RecordValidationError } from '../errors.ts';
import { faultPoint } from '../fault-points.ts';
import { deleteAll } from '../io/file-io.ts';
import { currentSchema, defaultSpec, MAIN_BRANCH } from '../spec/table-metadata.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../table/identifier.ts';
import type { DataFile } from '../spec/data-file.ts';
import { DataFileWriter, type ConvertedGroup, type WriteStats } from '../writer/data-file-writer.ts';
import { RollingDataFileWriter } from '../writer/rolling-data-file-writer.ts';
import { commitWithRetry, type CommitHooks, type CommitResult } from './commit-with-retry.ts';
import { FastAppend } from './fast-append.ts';
import { checkStaging } from './snapshot-producer.ts';

/** Options of {@link appendRecords}. */
export interface AppendOptions {
  /** The branch to commit to (default `main`); a missing branch is forked from main's head by the first commit. */
  readonly branch?: string;
  /** Extra snapshot summary properties (e.g. source offsets). */
  readonly summary?: Readonly<Record<string, string>>;
  /** Callbacks around each commit attempt. */
  readonly hooks?: CommitHooks;
  /** See FastAppend: runs on every base; throwing aborts the append and removes its files. */
  readonly validate?: (base: LoadedTable, branch: string) => void;
  /** Stage the snapshot with summary `wap.id` instead of moving a branch (the table needs
   * `write.wap.enabled=true`); publish it later with {@link publishWapId}. */
  readonly wapId?: string;
}

/** What an append committed. */
export interface AppendResult extends CommitResult {
  /** Data files written (one or more per partition, rolled at `write.target-file-size-bytes`). */
  readonly dataFiles: number;
  /** Records appended. */
  readonly records: number;
  /** Milliseconds spent writing and committing. */
  readonly timings: WriteStats & { commitMs: number };
}

/**
 * Appends plain JavaScript records to a table as one snapshot (an Iceberg `append`): records are
 * validated against the current schema, written as Parquet data files under the table's
 * location (partitioned by its default spec, rolled at `write.target-file-size-bytes`,
 * `write.parquet.compression-codec`…), then committed with retries (`commit.retry.*`). Nothing
 * is visible unless the commit lands; the files of a failed commit are removed.
 *
 * Values: `long` as number or bigint, `timestamp`/`timestamptz` as a Date, an ISO-8601 string or
 * epoch milliseconds, `date` as `YYYY-MM-DD`, `decimal` as a string (`'9.99'`), `binary` as a
 * Uint8Array.
 *
 * @param records - objects keyed by column name; a missing optional column is null.
 * @throws {@link RecordValidationError} naming the record index and field of the first bad value
 * (nothing is written); {@link NotFoundError} without such table;
 * {@link CommitConflictError} when the retries are spent; {@link CommitStateUnknownError} when
 * the outcome of the commit cannot be known (files are kept).
 * @example
 * ```ts
 * const result = await appendRecords(catalog, parseTableIdentifier('shop.orders'), [
 *   { id: 1, ts: new Date(), amount: '9.99' },
 *   { id: 2, ts: new Date(), amount: '20.00' },
 * ]);
 * console.log(result.snapshot.snapshotId, result.records);
 * ```
 */
export async function appendRecords(catalog: Catalog, id: TableIdentifier, records: readonly unknown[], opts: AppendOptions = {}): Promise<AppendResult> {
  const base = await catalog.loadTable(id);
  const meta = base.metadata;
  checkStaging(meta, identifierToString(id), opts.wapId, opts.branch);
  const writer = new DataFileWriter({
    schema: currentSchema(meta), spec: defaultSpec(meta), properties: meta.properties,
    location: meta.location, io: catalog.io,
  });
  const files = await writer.write(records);
  return commitWritten(catalog, id, base, writer, files, records.length, opts);
}

/** Commits the data files an append wrote (fast append, retries); removes them unless the
 * outcome is unknown. */
async function commitWritten(catalog: Catalog, id: TableIdentifier, base: LoadedTable, writer: DataFileWriter, files: DataFile[], records: number, opts: AppendOptions): Promise<AppendResult> {
  faultPoint('append.after-data-files');
  const t0 = performance.now();
  const action = new FastAppend(catalog.io, files, {
    branch: opts.branch ?? MAIN_BRANCH,
    ...(opts.summary ? { summary: opts.summary } : {}),
    ...(opts.validate ? { validate: opts.validate } : {}),
    ...(opts.wapId !== undefined ? { wapId: opts.wapId } : {}),
  });
  try {
    const result = await commitWithRetry(catalog, id, action, { base, ...(opts.hooks ? { hooks: opts.hooks } : {}) });
    return { ...result, dataFiles: files.length, records, timings: { ...writer.stats, commitMs: performance.now() - t0 } };
  } catch (err) {
    // The commit loop already removed its manifests; data files are ours to remove, unless
    // the outcome is unknown (then the table may reference them).
    if (!(err instanceof CommitStateUnknownError)) await deleteAll(catalog.io, files.map((f) => f.filePath));
    throw err;
  }
}

/** Records already converted to Arrow with one schema and partition spec of the table. */
export interface ConvertedRecords {
  readonly schemaId: number;
  readonly specId: number;
  readonly groups: readonly ConvertedGroup[];
  readonly records: number;
}

/**
 * {@link appendRecords} for records converted to Arrow beforehand (the ingestor converts a
 * batch as it arrives): the same files, commit and cleanup. Resolves to undefined, writing
 * nothing, when the table's current schema or default spec is no longer the one the records
 * were converted with: the caller then appends the records themselves.
 */
export async function appendConverted(catalog: Catalog, id: TableIdentifier, converted: ConvertedRecords, opts: AppendOptions = {}): Promise<AppendResult | undefined> {
  const base = await catalog.loadTable(id);
  const meta = base.metadata;
  const schema = currentSchema(meta);
  const spec = defaultSpec(meta);
  if (schema.schemaId !== converted.schemaId || spec.specId !== converted.specId) return undefined;
  checkStaging(meta, identifierToString(id), opts.wapId, opts.branch);
  const writer = new DataFileWriter({ schema, spec, properties: meta.properties, location: meta.location, io: catalog.io });
  const files = await writer.writeConverted(converted.groups);
  return commitWritten(catalog, id, base, writer, files, converted.records, opts);
}

/** A piece of a record stream: the records and their size as read (e.g. NDJSON bytes). */
export interface RecordChunk {
  /** The chunk's records. */
  readonly records: readonly unknown[];
  /** Their size as read, which paces file rolling. */
  readonly inputBytes: number;
}

/** Options of {@link appendRecordStream}. */
export interface StreamAppendOptions extends Omit<AppendOptions, 'summary' | 'validate'> {
  /**
   * Called once the stream is written, before the commit: summary properties and validation
   * that depend on what was read (e.g. the source position reached).
   */
  readonly beforeCommit?: () => Promise<Pick<AppendOptions, 'summary' | 'validate'>> | Pick<AppendOptions, 'summary' | 'validate'>;
}

/**
 * Appends a record stream of any size in one commit: chunks go through a rolling writer (files
 * rolled at `write.target-file-size-bytes`, streamed to storage), so memory stays bounded. If
 * reading or any record fails, every file written is removed and nothing is committed; a
 * RecordValidationError then names the record's index in the whole stream. A stream without
 * records commits nothing and returns undefined.
 *
 * @throws the errors of {@link appendRecords}.
 * @example
 * ```ts
 * async function* chunks() {
 *   for (let i = 0; i < 10; i++) yield { records: makeRows(i), inputBytes: 1_000_000 };
 * }
 * const result = await appendRecordStream(catalog, id, chunks());
 * ```
 */
export async function appendRecordStream(catalog: Catalog, id: TableIdentifier, chunks: AsyncIterable<RecordChunk>, opts: StreamAppendOptions = {}): Promise<AppendResult | undefined> {
  const base = await catalog.loadTable(id);
  const meta = base.metadata;
  checkStaging(meta, identifierToString(id), opts.wapId, opts.branch);
  const writer = new RollingDataFileWriter({
    schema: currentSchema(meta), spec: defaultSpec(meta), properties: meta.properties,
    location: meta.location, io: catalog.io,
  });
  const t0 = performance.now();
  let files: DataFile[];
  try {
    for await (const chunk of chunks) {
      const before = writer.records;
      try {
        await writer.write(chunk.records, chunk.inputBytes);
      } catch (err) {
        if (err instanceof RecordValidationError) {
          throw new RecordValidationError(before + err.recordIndex, err.fieldPath, err.message.replace(/^record \d+: field '[^']*': /, ''));
        }
        throw err;
      }
    }
    files = await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  const writeMs = performance.now() - t0;
  if (files.length === 0) return undefined;
  faultPoint('append.after-data-files');
  const t1 = performance.now();
  try {
    const extra = (await opts.beforeCommit?.()) ?? {};
    const action = new FastAppend(catalog.io, files, {
      branch: opts.branch ?? MAIN_BRANCH,
      ...(extra.summary ? { summary: extra.summary } : {}),
      ...(extra.validate ? { validate: extra.validate } : {}),
      ...(opts.wapId !== undefined ? { wapId: opts.wapId } : {}),
    });
    const result = await commitWithRetry(catalog, id, action, { base, ...(opts.hooks ? { hooks: opts.hooks } : {}) });
    // Conversion, encoding and IO interleave chunk by chunk when streaming: all in parquetMs.
    return { ...result, dataFiles: files.length, records: writer.records, timings: { toArrowMs: 0, parquetMs: writeMs, ioMs: 0, commitMs: performance.now() - t1 } };
  } catch (err) {
    if (!(err instanceof CommitStateUnknownError)) await deleteAll(catalog.io, files.map((f) => f.filePath));
    throw err;
  }
}
