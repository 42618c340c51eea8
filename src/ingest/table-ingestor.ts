// Streams records into one table: validation (bad records to the dead-letter sink, counted,
// never dropped), micro-batching, and exactly-once commits that carry the batch's source
// offsets. A batch part whose offsets another writer committed first is trimmed away and the
// rest is committed, so a rebalance neither loses nor doubles a record. A batch is appended, or
// in upsert mode merged by the table's key (one mergeRecords commit per batch).
import { faultPoint } from '../fault-points.ts';
import { partitionType, type PartitionFieldType, type PartitionSpec } from '../spec/partition-spec.ts';
import { currentSchema, defaultSpec, MAIN_BRANCH, type TableMetadata } from '../spec/table-metadata.ts';
import type { Catalog } from '../table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../table/identifier.ts';
import { findRecordProblem } from '../writer/record-validator.ts';
import { inputBytesPerTargetFile } from '../writer/data-file-writer.ts';
import type { Schema } from '../spec/schema.ts';
import { ValidationError, RecordValidationError } from '../errors.ts';
import { requireKey } from '../merge/merge-records.ts';
import { MicroBatcher, type Batch, type BatcherConfig, type FlushOutcome, type FlushReason } from './micro-batcher.ts';
import { appendExactlyOnce, rangesOf, type PositionedRecord, type SourcePosition } from './exactly-once-append.ts';
import type { ExactlyOnceOptions, ExactlyOnceResult } from './exactly-once-commit.ts';
import { mergeExactlyOnce, type PositionedChange, type UpsertMergeOptions } from './exactly-once-merge.ts';
import { checkUpsertBatch } from './upsert-rejections.ts';
import { evolveSchemaFor } from './schema-evolution.ts';
import { committedOffsets, type OffsetRange } from './source-offsets.ts';
import { payloadText } from './payload-decoding.ts';
import { BatchConversion } from './batch-conversion.ts';
import { commitExactlyOnce } from './exactly-once-commit.ts';
import { appendConverted, appendRecords, type ConvertedRecords } from '../transaction/append-records.ts';
import { WapBatches, type WapBatchOptions, type WapGateResult } from './wap-batches.ts';

export type { SourcePosition } from './exactly-once-append.ts';


/** One record offered to a {@link TableIngestor}: the decoded value, its raw text (kept for the
 * dead-letter path), its size and, for exactly-once commits, its source position. */
export interface SourceRecord {
  /** The decoded record, or undefined when the payload could not be decoded. */
  readonly value: unknown;
  /** The payload as received, kept for the dead-letter path: its text, or its bytes (a Kafka
   * message that decoded: the text is made again only if the record turns out a dead letter,
   * so a batch holds no second copy of every payload on the JS heap). */
  readonly raw: string | Uint8Array;
  /** The payload's size in bytes (paces batches by `maxBytes`). */
  readonly bytes: number;
  /** Where the record sits in its source; without one the record is appended without offsets. */
  readonly position?: SourcePosition;
  /** The source's timestamp (Kafka message time), kept on dead letters. */
  readonly timestampMs?: number;
  /** Set when decoding failed (e.g. invalid JSON). */
  readonly decodeError?: string;
  /** 1-based line of a file source, for messages. */
  readonly line?: number;
  /** A Kafka message with a null value (log compaction's delete marker); `decodeError` says so
   * for appends, a Debezium upsert skips it and counts its offset. */
  readonly tombstone?: boolean;
}

/** Where a record came from, for a dead letter's one-line reason: "line 12" or "partition 0 offset 41". */
function whereFrom(r: SourceRecord): string | undefined {
  if (r.line !== undefined) return `line ${r.line}`;
  if (r.position) return `partition ${r.position.partition} offset ${r.position.offset}`;
  return undefined;
}

/** The dead-letter reason: where, field, value and expected type, on one line. */
function deadLetterReason(r: SourceRecord, field: string, reason: string): string {
  const where = whereFrom(r);
  // A decode error may already say where (the NDJSON reader's "line 3: invalid JSON ..."): once is enough.
  const own = where && reason.startsWith(`${where}: `) ? reason.slice(where.length + 2) : reason;
  return `${where ? `${where}: ` : ''}field '${field}': ${own}`.replace(/[\r\n]+/g, ' ');
}

/** A record that could not be written, with the reason. */
export interface DeadLetter {
  /** The payload as received. */
  readonly raw: string;
  /** One line: where, which field, which value and what was expected. */
  readonly error: string;
  /** The record's source position. */
  readonly position?: SourcePosition;
  /** The source's timestamp. */
  readonly timestampMs?: number;
}

/** Where dead letters go (startIngest's `deadLetter` table, or your own sink). */
export interface DeadLetterSink {
  /** Stores dead letters; `ranges` lets a table sink record offsets and skip replays. */
  write(letters: readonly DeadLetter[], sourceId: string | undefined, ranges: ReadonlyMap<number, OffsetRange>): Promise<void>;
}

/** Rows an upsert commit inserted, replaced and deleted; `upserted` = rows written, which is all
 * that is known with equality deletes (write.upsert.enabled: the table is not read, inserted and
 * updated stay 0, deleted counts delete changes). */
export interface UpsertCounts {
  /** Rows written. */
  readonly upserted: number;
  /** Rows whose key was not in the table. */
  readonly inserted: number;
  /** Rows that replaced a row with the same key. */
  readonly updated: number;
  /** Keys deleted. */
  readonly deleted: number;
}

/** Callbacks of a {@link TableIngestor}, for logs and metrics. */
export interface IngestEvents {
  /** A batch was committed (after the commit landed). */
  /** `records`: rows appended, or changes merged (upsert: tombstones and dead letters left out). */
  onCommit?(info: { reason: FlushReason; records: number; deadLetters: number; trimmed: number; commitMs: number; attempts: number; offsets: ReadonlyMap<number, OffsetRange>; sourceId?: string; upserted?: UpsertCounts }): void | Promise<void>;
  /** Records were dropped because another writer had committed their offsets first (a rebalance). */
  onStale?(info: { sourceId: string; dropped: number }): void;
  /** The schema was evolved (`evolveSchema`): one line per change. */
  onSchemaChange?(changes: string[]): void;
  /** Write-audit-publish: a batch was committed to the audit branch (before its audit). */
  onStaged?(info: { branch: string; records: number }): void | Promise<void>;
  /** Write-audit-publish: the audit branch was audited and published or quarantined. */
  onWap?(result: WapGateResult): void | Promise<void>;
  /** A batch failed for good (its retries spent): no later batch is committed; stop the source. */
  onFailure?(err: unknown): void;
}

/** Options of {@link TableIngestor.open}. */
export interface TableIngestorOptions {
  /** The branch to commit to (default `main`). */
  readonly branch?: string;
  /** When batches are flushed; start from {@link DEFAULT_BATCHER_CONFIG}. */
  readonly batcher: BatcherConfig;
  /** Where records that do not fit the schema go; without a sink such a record fails its batch. */
  readonly deadLetters?: DeadLetterSink;
  /** Callbacks for logs and metrics. */
  readonly events?: IngestEvents;
  /** Add optional columns for unknown fields and promote int→long, float→double (default off). */
  readonly evolveSchema?: boolean;
  /** Extra summary properties of a batch's commit, from its records in source order (a file
   * source records the fingerprint of the file up to the batch's end). With `revive`, a batch
   * converted while it filled hands its records over without their `value`: use positions,
   * lines and payloads here. */
  readonly sourceSummary?: (items: readonly SourceRecord[]) => Promise<Record<string, string>>;
  /** Upsert mode: each batch is one mergeRecords commit by the table's key (identifier fields). */
  readonly upsert?: UpsertMergeOptions;
  /** Write-audit-publish: batches are committed to `wap.branch` (not `branch`), then audited and
   * published or quarantined every `wap.batchesPerPublish` batches. */
  readonly wap?: WapBatchOptions;
  /**
   * Decodes a record's value again from its `raw` payload, exactly as the source decoded it.
   * With it, an append-mode ingestor converts each batch to Arrow while the batch fills and
   * keeps only the payloads and positions until the flush (far less for the garbage collector
   * to copy), decoding a record again only when its batch must be committed from records (the
   * table's schema changed, a rebalance trimmed the batch). Without it, records are kept whole.
   */
  readonly revive?: (record: SourceRecord) => unknown;
}


/**
 * Drops a record whose source position is already in the batch. Kafka delivers a message twice
 * when the consumer seeks to the table's offsets after a fetch from Kafka's older committed
 * offsets was already offered (a restart whose crash fell between the table commit and Kafka's
 * offset commit); the offsets validator only refuses overlaps with earlier commits, not within
 * one batch.
 */
export function firstDeliveries(items: SourceRecord[]): SourceRecord[] {
  // A repeat needs an offset that does not rise within its partition; without one (every batch
  // but those around a re-seek) the batch is returned as is, without a key string per record.
  const last = new Map<string, Map<number, bigint>>();
  let rising = true;
  for (const r of items) {
    const p = r.position;
    if (!p) continue;
    let parts = last.get(p.sourceId);
    if (!parts) { parts = new Map(); last.set(p.sourceId, parts); }
    const prev = parts.get(p.partition);
    if (prev !== undefined && p.offset <= prev) { rising = false; break; }
    parts.set(p.partition, p.offset);
  }
  if (rising) return items;
  const seen = new Set<string>();
  const out = items.filter((r) => {
    if (!r.position) return true;
    const key = `${r.position.sourceId}\u0000${r.position.partition}\u0000${r.position.offset}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return out.length === items.length ? items : out;
}

/**
 * Streams records into one table in micro-batches: validation (records that do not fit the
 * schema go to the dead-letter sink, counted, never dropped), batching by time, count and
 * bytes, and exactly-once commits that carry each batch's source offsets in the snapshot
 * summary. A batch part whose offsets another writer committed first is trimmed, so a
 * rebalance neither loses nor doubles a record. In upsert mode each batch is one mergeRecords
 * commit by the table's key; with `wap` batches are staged on an audit branch and published.
 *
 * Feed it with {@link TableIngestor.offer}; pause your source while `full`; call `close()` at
 * the end (it commits what is buffered). `startIngest` wires it to Kafka or NDJSON for you.
 *
 * @example
 * ```ts
 * const ingestor = await TableIngestor.open(catalog, parseTableIdentifier('shop.orders'), {
 *   batcher: { ...DEFAULT_BATCHER_CONFIG, windowMs: 1_000 },
 *   events: { onCommit: (c) => console.log(`committed ${c.records} rows`) },
 * });
 * for (const [i, line] of lines.entries()) {
 *   ingestor.offer({ value: JSON.parse(line), raw: line, bytes: line.length,
 *     position: { sourceId: 'my-file', partition: 0, offset: BigInt(i) } });
 *   if (ingestor.full) await ingestor.drained();
 * }
 * await ingestor.close();
 * ```
 */
export class TableIngestor {
  private batcher!: MicroBatcher<SourceRecord>;
  private schema!: Schema;
  private spec!: PartitionSpec;
  /** The default spec's fields: records whose partition value cannot be written are dead letters. */
  private partitionFields: readonly PartitionFieldType[] = [];
  /** The branch batches are committed to (the audit branch with `wap`). */
  readonly branch: string;
  private wap: WapBatches | undefined;
  /** The open batch's conversion (append mode with `revive`), and each batch's by its first record. */
  private conversion: BatchConversion<SourceRecord> | undefined;
  private readonly conversions = new WeakMap<SourceRecord, BatchConversion<SourceRecord>>();
  private readonly convertEarly: boolean;
  /** Input bytes after which a conversion chunk is cut (a quarter of a file at the target size). */
  private chunkBytes = Number.POSITIVE_INFINITY;
  /** Running totals since open. */
  counts = { received: 0, committed: 0, deadLettered: 0, staleDropped: 0, upserted: 0, inserted: 0, updated: 0, deleted: 0 };

  /** The table written to. */
  readonly table: TableIdentifier;

  private constructor(private readonly catalog: Catalog, table: TableIdentifier, private readonly opts: TableIngestorOptions) {
    this.table = table;
    this.branch = opts.wap?.branch ?? opts.branch ?? MAIN_BRANCH;
    this.convertEarly = opts.revive !== undefined && !opts.upsert && !opts.evolveSchema;
  }

  /**
   * Opens an ingestor on a table. With `wap`, batches a crashed run staged but did not publish
   * are gated first.
   *
   * @throws {@link floe!NotFoundError} for a missing table; {@link floe!ValidationError} for upsert on a
   * table without a key, or upsert combined with evolveSchema.
   */
  static async open(catalog: Catalog, table: TableIdentifier, opts: TableIngestorOptions): Promise<TableIngestor> {
    const ing = new TableIngestor(catalog, table, opts);
    const meta = (await catalog.loadTable(table)).metadata;
    if (opts.upsert) {
      if (opts.evolveSchema) throw new ValidationError(`table ${identifierToString(table)}: evolveSchema cannot be combined with upsert yet (evolution would take the change envelope's fields for columns)`);
      requireKey(currentSchema(meta), table);
    }
    ing.useMetadata(meta);
    if (opts.wap) {
      // Batches a crashed run staged but did not publish are gated before anything new is read.
      ing.wap = new WapBatches(catalog, table, opts.wap);
      const recovered = await ing.wap.recover();
      if (recovered) await opts.events?.onWap?.(recovered);
    }
    ing.batcher = new MicroBatcher(opts.batcher, (b) => ing.commitBatch(b), (err) => opts.events?.onFailure?.(err));
    return ing;
  }

  private useMetadata(meta: TableMetadata): void {
    this.spec = defaultSpec(meta);
    this.chunkBytes = inputBytesPerTargetFile(meta.properties) / 4;
    this.useSchema(currentSchema(meta));
  }

  private useSchema(schema: Schema): void {
    this.schema = schema;
    this.partitionFields = partitionType(this.spec, schema);
  }

  /** True while buffered plus in-flight bytes reach `bufferLimitBytes`: pause the source until {@link TableIngestor.drained}. */
  get full(): boolean { return this.batcher.full; }
  /** Bytes buffered or being committed. */
  get bufferedBytes(): number { return this.batcher.bufferedBytes; }
  /** The current batch window (moves in adaptive mode). */
  get windowMs(): number { return this.batcher.windowMs; }
  /** Resolves once the ingestor is no longer {@link TableIngestor.full}. */
  drained(): Promise<void> { return this.batcher.drained(); }

  /** Offsets the table holds for a source: where a consumer must resume. */
  async committedOffsets(sourceId: string): Promise<Map<number, bigint>> {
    return committedOffsets((await this.catalog.loadTable(this.table)).metadata, this.branch, sourceId);
  }

  /** Buffers one record (throws if an earlier commit failed for good). */
  offer(rec: SourceRecord): void {
    this.counts.received++;
    if (!this.convertEarly) {
      this.batcher.add(rec, rec.bytes);
      return;
    }
    if (this.batcher.bufferedRecords === 0 || this.conversion === undefined) {
      this.conversion = new BatchConversion(this.schema, this.spec.specId, this.partitionFields, this.chunkBytes);
    }
    const conv = this.conversion;
    const kept = withoutValue(rec);
    if (conv.count === 0) this.conversions.set(kept, conv);
    if (conv.abandoned !== undefined) conv.count++;
    else if (!conv.acceptsPosition(rec.position)) { conv.abandon('a record was delivered again'); conv.count++; }
    else if (rec.decodeError !== undefined) conv.addDead(kept, '(payload)', rec.decodeError);
    else conv.add(kept, rec.value, rec.bytes);
    this.batcher.add(kept, rec.bytes);
  }

  /** The source has (or has not) caught up: a batch old enough is flushed early. */
  setCaughtUp(caughtUp: boolean): void { this.batcher.setCaughtUp(caughtUp); }

  /** Commits the open batch now and waits for every pending commit. */
  flush(reason: FlushReason = 'shutdown'): Promise<void> { return this.batcher.flush(reason); }
  /** Commits what is buffered (reason `shutdown`) and stops; rejects if a batch failed for good. */
  close(): Promise<void> { return this.batcher.close(); }

  private async commitBatch(delivered: Batch<SourceRecord>): Promise<FlushOutcome> {
    const conv = this.conversions.get(delivered.items[0]!);
    // A flushed batch takes no more records (the next offer opens a new conversion): dropped
    // here, an idle ingestor would keep the last batch's payloads and Arrow rows until then.
    if (conv !== undefined && this.conversion === conv) this.conversion = undefined;
    let converted = conv !== undefined && conv.count === delivered.items.length ? conv.finish() : undefined;
    // A converted batch is committed as such only if the table still has the schema and spec it
    // was converted (and its dead letters judged) with; otherwise it takes the records' path
    // against the current ones, as a batch kept whole does, and later batches convert with them.
    // (The append checks again on the table it writes to: the dead letters come in between.)
    if (converted !== undefined) {
      const meta = (await this.catalog.loadTable(this.table)).metadata;
      if (currentSchema(meta).schemaId !== conv!.schema.schemaId || defaultSpec(meta).specId !== conv!.specId) {
        this.useMetadata(meta);
        converted = undefined;
      }
    }
    const items = conv === undefined || converted !== undefined ? delivered.items : delivered.items.map((r) => this.revived(r));
    const batch = { ...delivered, items: converted ? items : firstDeliveries(items) };
    if (this.opts.evolveSchema) {
      // Evolution adds columns and widens types; the spec (and its source ids) stays.
      this.useSchema(await evolveSchemaFor(this.catalog, this.table, batch.items.map((r) => r.value), (c) => this.opts.events?.onSchemaChange?.(c)));
    }
    const sourceId = batch.items.find((r) => r.position)?.position?.sourceId;
    const ranges = rangesOf(batch.items);
    const upsert = this.opts.upsert;
    const ctx: BatchContext = {
      sourceId, ranges,
      // Called once the dead letters are in: the file fingerprint counts in commitMs, as before.
      commitOptions: async () => ({
        branch: this.branch, sourceId, batchRanges: ranges,
        summary: { 'floe.flush-reason': batch.reason, ...(this.opts.sourceSummary ? await this.opts.sourceSummary(batch.items) : {}) },
        onTrim: (dropped: number) => {
          this.counts.staleDropped += dropped;
          if (sourceId) this.opts.events?.onStale?.({ sourceId, dropped });
        },
        // The crash test's point inside an overlapped commit: this batch is about to become
        // visible while the next one already holds records (filling, or flushed behind it).
        hooks: { beforeSwap: () => { if (this.batcher.bufferedRecords > 0 || this.batcher.batchesInFlight > 1) faultPoint('ingest.overlapped-commit'); } },
      }),
    };
    const outcome = upsert ? await this.upsertBatch(batch.items, upsert, ctx)
      : converted ? await this.appendConvertedBatch(converted, conv!, ctx)
        : await this.appendBatch(batch.items, ctx);
    this.counts.committed += outcome.records;
    if (this.wap) {
      await this.opts.events?.onStaged?.({ branch: this.branch, records: outcome.records });
      faultPoint('wap.after-stage');
      const gated = await this.wap.afterBatch();
      if (gated) await this.opts.events?.onWap?.(gated);
    }
    await this.opts.events?.onCommit?.({
      reason: batch.reason, records: outcome.records, deadLetters: outcome.deadLetters, trimmed: outcome.result.trimmed, commitMs: outcome.commitMs,
      attempts: outcome.result.attempts, offsets: ranges, ...(sourceId ? { sourceId } : {}), ...(outcome.upserted ? { upserted: outcome.upserted } : {}),
    });
    return { commitMs: outcome.commitMs, conflicts: Math.max(0, outcome.result.attempts - 1) };
  }

  /** A record with its value decoded again (a batch converted early, committed from records). */
  private revived(r: SourceRecord): SourceRecord {
    if (r.value !== undefined || r.decodeError !== undefined) return r;
    return { ...r, value: this.opts.revive!(r) };
  }

  /**
   * Append mode, a batch converted while it filled: its dead letters first, then one append of
   * the converted rows (the same files and commit as appendBatch). When the commit must go
   * from records instead — the table's schema or spec changed since the batch opened, or a
   * rebalance trimmed part of it — those records are decoded again and appended as such.
   */
  private async appendConvertedBatch(
    converted: NonNullable<ReturnType<BatchConversion<SourceRecord>['finish']>>, conv: BatchConversion<SourceRecord>, ctx: BatchContext,
  ): Promise<BatchOutcome> {
    const { groups, dead } = converted;
    if (dead.length > 0) await this.deadLetter(dead.map((d) => letterOf(d.item, deadLetterReason(d.item, d.field, d.reason))), ctx.sourceId, ctx.ranges);
    const good = conv.good;
    const records: ConvertedRecords = { schemaId: conv.schema.schemaId, specId: conv.specId, groups, records: good.length };
    const t0 = performance.now();
    const result = await commitExactlyOnce(this.catalog, this.table, good, await ctx.commitOptions(), async (pending, args) => {
      if (pending.length === good.length) {
        const appended = await appendConverted(this.catalog, this.table, records, args);
        if (appended) return { attempts: appended.attempts, value: undefined };
      }
      const appended = await appendRecords(this.catalog, this.table, pending.map((r) => this.revived(r).value), args);
      return { attempts: appended.attempts, value: undefined };
    });
    return { result, records: result.committed, deadLetters: dead.length, commitMs: performance.now() - t0 };
  }

  /** Append mode: every record is validated as a row of the table; dead letters first (once the
   * batch's offsets are committed, a restart resumes after them). */
  private async appendBatch(items: readonly SourceRecord[], ctx: BatchContext): Promise<BatchOutcome> {
    // Most batches hold no bad record: the writer validates every record before it writes a
    // byte (a bad one throws RecordValidationError and leaves no file, nothing committed), so
    // such a batch is appended as it is, without a second validation pass over every value.
    // Only a batch the writer refuses is checked record by record to find its dead letters.
    if (items.every((r) => r.decodeError === undefined)) {
      const all = items.map((r): PositionedRecord => ({ value: r.value as Record<string, unknown>, ...(r.position ? { position: r.position } : {}) }));
      const t0 = performance.now();
      const opts = await ctx.commitOptions();
      let trimmed = 0; // counted once the attempt stands: the fallback trims (and counts) again
      try {
        const result = await appendExactlyOnce(this.catalog, this.table, all, { ...opts, onTrim: (dropped) => { trimmed += dropped; } });
        if (trimmed > 0) opts.onTrim?.(trimmed);
        return { result, records: result.committed, deadLetters: 0, commitMs: performance.now() - t0 };
      } catch (err) {
        if (!(err instanceof RecordValidationError)) throw err;
      }
    }
    // The writer judged the batch by the table's current schema and spec: so must the search for
    // its dead letters (another writer may have evolved the table since this ingestor opened).
    this.useMetadata((await this.catalog.loadTable(this.table)).metadata);
    const good: PositionedRecord[] = [];
    const dead: DeadLetter[] = [];
    for (const r of items) {
      const problem = r.decodeError !== undefined ? { field: '(payload)', reason: r.decodeError } : findRecordProblem(this.schema, r.value, this.partitionFields);
      if (problem) dead.push(letterOf(r, deadLetterReason(r, problem.field, problem.reason)));
      else good.push({ value: r.value as Record<string, unknown>, ...(r.position ? { position: r.position } : {}) });
    }
    if (dead.length > 0) await this.deadLetter(dead, ctx.sourceId, ctx.ranges);
    const t0 = performance.now();
    const result = await appendExactlyOnce(this.catalog, this.table, good, await ctx.commitOptions());
    return { result, records: result.committed, deadLetters: dead.length, commitMs: performance.now() - t0 };
  }

  /**
   * Upsert mode: one merge commit. The records the merge would refuse are dead letters, found
   * and committed before the batch's offsets. They still go to the merge (marked), so it decodes
   * the same input (Debezium's default order is chosen over the whole batch) and its offsets
   * cover them. A Debezium tombstone (null Kafka value) goes to the merge as null: skipped
   * there, its offset counted.
   */
  private async upsertBatch(items: readonly SourceRecord[], upsert: UpsertMergeOptions, ctx: BatchContext): Promise<BatchOutcome> {
    // The merge validates against the table's current schema: so must the dead-letter check.
    this.useMetadata((await this.catalog.loadTable(this.table)).metadata);
    const good: UpsertChange[] = [];
    const dead: DeadLetter[] = [];
    const debezium = upsert.format === 'debezium';
    for (const r of items) {
      if (r.tombstone && debezium) good.push({ value: null, source: r, rejected: false, skipped: true, ...(r.position ? { position: r.position } : {}) });
      else if (r.decodeError !== undefined) dead.push(letterOf(r, deadLetterReason(r, '(payload)', r.decodeError)));
      else good.push({ value: r.value, source: r, rejected: false, skipped: false, ...(r.position ? { position: r.position } : {}) });
    }
    const check = checkUpsertBatch(this.schema, this.partitionFields, good.map((g) => g.value), upsert);
    for (const i of check.skipped) good[i] = { ...good[i]!, skipped: true };
    for (const x of check.rejected) {
      const g = good[x.index]!;
      good[x.index] = { ...g, rejected: true };
      dead.push(letterOf(g.source, oneLine(`${whereFrom(g.source) ?? 'record'}: ${x.reason}`)));
    }
    if (dead.length > 0) await this.deadLetter(dead, ctx.sourceId, ctx.ranges);

    const t0 = performance.now();
    const merged = await mergeExactlyOnce(this.catalog, this.table, good, { ...(await ctx.commitOptions()), merge: upsert });
    const commitMs = performance.now() - t0;
    // Refused by the merge but not by the check above: only when the table's schema changed in
    // between. Their offsets are committed, so they are stored without offsets (a crash right
    // here loses them: the restart resumes after the batch).
    const late = merged.rejected.filter((r) => !r.change.rejected).map((r) => letterOf(r.change.source, oneLine(`${whereFrom(r.change.source) ?? 'record'}: ${r.reason}`)));
    if (late.length > 0) await this.deadLetter(late, undefined, new Map());
    const skipped = merged.pending.filter((c) => c.rejected || c.skipped).length;
    const upserted = { upserted: merged.upserted, inserted: merged.inserted, updated: merged.updated, deleted: merged.deleted };
    this.counts.upserted += upserted.upserted;
    this.counts.inserted += upserted.inserted;
    this.counts.updated += upserted.updated;
    this.counts.deleted += upserted.deleted;
    return { result: merged, records: merged.committed - skipped - late.length, deadLetters: dead.length + late.length, commitMs, upserted };
  }

  private async deadLetter(dead: readonly DeadLetter[], sourceId: string | undefined, ranges: ReadonlyMap<number, OffsetRange>): Promise<void> {
    if (!this.opts.deadLetters) throw new ValidationError(`${dead.length} record(s) failed validation and no dead-letter destination is configured; first: ${dead[0]!.error}`);
    await this.opts.deadLetters.write(dead, sourceId, ranges);
    this.counts.deadLettered += dead.length;
    faultPoint('ingest.after-dead-letters');
  }
}

/** A change of an upsert batch, with the record it came from. */
interface UpsertChange extends PositionedChange {
  readonly source: SourceRecord;
  /** Dead-lettered before the commit (the merge refuses it too). */
  readonly rejected: boolean;
  /** No change: a tombstone (the merge skips it; its offset counts). */
  readonly skipped: boolean;
}

interface BatchContext {
  readonly sourceId: string | undefined;
  readonly ranges: ReadonlyMap<number, OffsetRange>;
  readonly commitOptions: () => Promise<ExactlyOnceOptions>;
}

interface BatchOutcome {
  readonly result: ExactlyOnceResult;
  /** Rows appended, or changes merged (tombstones and dead letters left out). */
  readonly records: number;
  readonly deadLetters: number;
  readonly commitMs: number;
  readonly upserted?: UpsertCounts;
}

/** The record as a batch keeps it once converted: everything but the decoded value. */
function withoutValue(r: SourceRecord): SourceRecord {
  return {
    value: undefined, raw: r.raw, bytes: r.bytes,
    ...(r.position ? { position: r.position } : {}),
    ...(r.timestampMs !== undefined ? { timestampMs: r.timestampMs } : {}),
    ...(r.decodeError !== undefined ? { decodeError: r.decodeError } : {}),
    ...(r.line !== undefined ? { line: r.line } : {}),
    ...(r.tombstone ? { tombstone: r.tombstone } : {}),
  };
}

function oneLine(s: string): string { return s.replace(/[\r\n]+/g, ' '); }

function letterOf(r: SourceRecord, error: string): DeadLetter {
  return { raw: typeof r.raw === 'string' ? r.raw : payloadText(r.raw), error, ...(r.position ? { position: r.position } : {}), ...(r.timestampMs !== undefined ? { timestampMs: r.timestampMs } : {}) };
}
