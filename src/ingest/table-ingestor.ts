// Streams records into one table: validation (bad records to the dead-letter sink, counted,
// never dropped), micro-batching, and exactly-once commits that carry the batch's source
// offsets. A batch part whose offsets another writer committed first is trimmed away and the
// rest is committed, so a rebalance neither loses nor doubles a record.
import { faultPoint } from '../fault-points.ts';
import { partitionType, type PartitionFieldType, type PartitionSpec } from '../spec/partition-spec.ts';
import { currentSchema, defaultSpec, MAIN_BRANCH, type TableMetadata } from '../spec/table-metadata.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { findRecordProblem } from '../writer/record-validator.ts';
import type { Schema } from '../spec/schema.ts';
import { MicroBatcher, type Batch, type BatcherConfig, type FlushOutcome, type FlushReason } from './micro-batcher.ts';
import { appendExactlyOnce, rangesOf, type PositionedRecord, type SourcePosition } from './exactly-once-append.ts';
import { evolveSchemaFor } from './schema-evolution.ts';
import { committedOffsets, type OffsetRange } from './source-offsets.ts';

export type { SourcePosition } from './exactly-once-append.ts';


export interface SourceRecord {
  /** The decoded record, or undefined when the payload could not be decoded. */
  readonly value: unknown;
  /** The payload as received, kept for the dead-letter path. */
  readonly raw: string;
  readonly bytes: number;
  readonly position?: SourcePosition;
  readonly timestampMs?: number;
  /** Set when decoding failed (e.g. invalid JSON). */
  readonly decodeError?: string;
  /** 1-based line of a file source, for messages. */
  readonly line?: number;
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

export interface DeadLetter {
  readonly raw: string;
  readonly error: string;
  readonly position?: SourcePosition;
  readonly timestampMs?: number;
}

export interface DeadLetterSink {
  /** Stores dead letters; `ranges` lets a table sink record offsets and skip replays. */
  write(letters: readonly DeadLetter[], sourceId: string | undefined, ranges: ReadonlyMap<number, OffsetRange>): Promise<void>;
}

export interface IngestEvents {
  onCommit?(info: { reason: FlushReason; records: number; deadLetters: number; trimmed: number; commitMs: number; attempts: number; offsets: ReadonlyMap<number, OffsetRange>; sourceId?: string }): void | Promise<void>;
  onStale?(info: { sourceId: string; dropped: number }): void;
  onSchemaChange?(changes: string[]): void;
}

export interface TableIngestorOptions {
  readonly branch?: string;
  readonly batcher: BatcherConfig;
  readonly deadLetters?: DeadLetterSink;
  readonly events?: IngestEvents;
  /** Add optional columns for unknown fields and promote int→long, float→double (default off). */
  readonly evolveSchema?: boolean;
  /** Extra summary properties of a batch's commit, from its records in source order (a file
   * source records the fingerprint of the file up to the batch's end). */
  readonly sourceSummary?: (items: readonly SourceRecord[]) => Promise<Record<string, string>>;
}


/**
 * Drops a record whose source position is already in the batch. Kafka delivers a message twice
 * when the consumer seeks to the table's offsets after a fetch from Kafka's older committed
 * offsets was already offered (a restart whose crash fell between the table commit and Kafka's
 * offset commit); the offsets validator only refuses overlaps with earlier commits, not within
 * one batch.
 */
function firstDeliveries(items: SourceRecord[]): SourceRecord[] {
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

export class TableIngestor {
  private batcher!: MicroBatcher<SourceRecord>;
  private schema!: Schema;
  private spec!: PartitionSpec;
  /** The default spec's fields: records whose partition value cannot be written are dead letters. */
  private partitionFields: readonly PartitionFieldType[] = [];
  readonly branch: string;
  counts = { received: 0, committed: 0, deadLettered: 0, staleDropped: 0 };

  private constructor(private readonly catalog: Catalog, readonly table: TableIdentifier, private readonly opts: TableIngestorOptions) {
    this.branch = opts.branch ?? MAIN_BRANCH;
  }

  static async open(catalog: Catalog, table: TableIdentifier, opts: TableIngestorOptions): Promise<TableIngestor> {
    const ing = new TableIngestor(catalog, table, opts);
    ing.useMetadata((await catalog.loadTable(table)).metadata);
    ing.batcher = new MicroBatcher(opts.batcher, (b) => ing.commitBatch(b));
    return ing;
  }

  private useMetadata(meta: TableMetadata): void {
    this.spec = defaultSpec(meta);
    this.useSchema(currentSchema(meta));
  }

  private useSchema(schema: Schema): void {
    this.schema = schema;
    this.partitionFields = partitionType(this.spec, schema);
  }

  get full(): boolean { return this.batcher.full; }
  get bufferedBytes(): number { return this.batcher.bufferedBytes; }
  get windowMs(): number { return this.batcher.windowMs; }
  drained(): Promise<void> { return this.batcher.drained(); }

  /** Offsets the table holds for a source: where a consumer must resume. */
  async committedOffsets(sourceId: string): Promise<Map<number, bigint>> {
    return committedOffsets((await this.catalog.loadTable(this.table)).metadata, this.branch, sourceId);
  }

  /** Buffers one record (throws if an earlier commit failed for good). */
  offer(rec: SourceRecord): void {
    this.counts.received++;
    this.batcher.add(rec, rec.bytes);
  }

  flush(reason: FlushReason = 'shutdown'): Promise<void> { return this.batcher.flush(reason); }
  close(): Promise<void> { return this.batcher.close(); }

  private async commitBatch(delivered: Batch<SourceRecord>): Promise<FlushOutcome> {
    const batch = { ...delivered, items: firstDeliveries(delivered.items) };
    if (this.opts.evolveSchema) {
      // Evolution adds columns and widens types; the spec (and its source ids) stays.
      this.useSchema(await evolveSchemaFor(this.catalog, this.table, batch.items.map((r) => r.value), (c) => this.opts.events?.onSchemaChange?.(c)));
    }
    const good: PositionedRecord[] = [];
    const dead: DeadLetter[] = [];
    for (const r of batch.items) {
      const problem = r.decodeError !== undefined ? { field: '(payload)', reason: r.decodeError } : findRecordProblem(this.schema, r.value, this.partitionFields);
      if (problem) {
        dead.push({ raw: r.raw, error: deadLetterReason(r, problem.field, problem.reason), ...(r.position ? { position: r.position } : {}), ...(r.timestampMs !== undefined ? { timestampMs: r.timestampMs } : {}) });
      } else {
        good.push({ value: r.value as Record<string, unknown>, ...(r.position ? { position: r.position } : {}) });
      }
    }
    const sourceId = batch.items.find((r) => r.position)?.position?.sourceId;
    const ranges = rangesOf(batch.items);
    if (dead.length > 0) {
      if (!this.opts.deadLetters) throw new Error(`${dead.length} record(s) failed validation and no dead-letter destination is configured; first: ${dead[0]!.error}`);
      await this.opts.deadLetters.write(dead, sourceId, ranges);
      this.counts.deadLettered += dead.length;
      faultPoint('ingest.after-dead-letters');
    }
    const t0 = performance.now();
    const sourceSummary = this.opts.sourceSummary ? await this.opts.sourceSummary(batch.items) : {};
    const result = await appendExactlyOnce(this.catalog, this.table, good, {
      branch: this.branch, sourceId, batchRanges: ranges, summary: { 'floe.flush-reason': batch.reason, ...sourceSummary },
      onTrim: (dropped) => {
        this.counts.staleDropped += dropped;
        if (sourceId) this.opts.events?.onStale?.({ sourceId, dropped });
      },
    });
    const commitMs = performance.now() - t0;
    this.counts.committed += result.committed;
    await this.opts.events?.onCommit?.({
      reason: batch.reason, records: result.committed, deadLetters: dead.length, trimmed: result.trimmed, commitMs, attempts: result.attempts,
      offsets: ranges, ...(sourceId ? { sourceId } : {}),
    });
    return { commitMs, conflicts: Math.max(0, result.attempts - 1) };
  }
}

