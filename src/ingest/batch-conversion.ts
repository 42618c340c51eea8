// A micro-batch converted to Arrow while it fills, chunk by chunk, so its decoded records die
// young: held until the flush (a 50,000-record batch of 1 KB JSON is ~0.5 s of Kafka), they
// survived the V8 scavenges, were copied and promoted, and garbage collection took a fifth of
// the ingest thread. Records that do not fit the schema are found per chunk with the same
// check as a whole batch (findRecordProblem) and kept aside as dead letters; the rest of the
// chunk is converted. The conversion uses the schema and spec the batch opened with; the
// commit falls back to the records themselves (decoded again from their payload) when the
// table changed meanwhile or part of the batch must be trimmed.
import { RecordValidationError } from '../errors.ts';
import { partitionKey, type PartitionFieldType } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import type { PartitionTuple } from '../spec/data-file.ts';
import { groupByPartition, type ConvertedGroup } from '../writer/data-file-writer.ts';
import { recordsToArrow, type ConvertedBatch } from '../writer/record-converter.ts';
import { findRecordProblem } from '../writer/record-validator.ts';

/** Records converted at a time: at least the dictionary choice's sample (4,096 rows), small
 * enough that a chunk's decoded values are still in V8's young generation when converted. */
export const CONVERSION_CHUNK_RECORDS = 4_096;

/** A record that does not fit the table, with where in the batch it was offered. */
export interface ConversionProblem<T> { readonly item: T; readonly field: string; readonly reason: string; readonly seq: number }

interface GroupBuilder { readonly tuple: PartitionTuple; readonly batches: ConvertedBatch[]; inputBytes: number }

export class BatchConversion<T> {
  private values: unknown[] = [];
  private items: T[] = [];
  private seqs: number[] = [];
  private pendingBytes = 0;
  private readonly groups = new Map<string, GroupBuilder>();
  private readonly problems: ConversionProblem<T>[] = [];
  /** Items converted, in the order offered. */
  readonly good: T[] = [];
  /** Items offered (converted, dead or pending). */
  count = 0;
  /** Set when the batch must be committed from its records instead (see {@link BatchConversion.abandon}). */
  abandoned: string | undefined;
  /** Last offset offered per source partition: a repeat means the source re-delivered. */
  private readonly lastOffset = new Map<number, bigint>();
  private sourceId: string | undefined;

  /**
   * @param maxChunkBytes - input bytes after which a chunk is converted even short of
   * CONVERSION_CHUNK_RECORDS: the commit splits files only between chunks, so chunks must stay
   * well under a file at the table's target size (a quarter of one: files land within 25% of
   * where the records' path would cut them).
   */
  constructor(readonly schema: Schema, readonly specId: number, private readonly fields: readonly PartitionFieldType[], private readonly maxChunkBytes = Number.POSITIVE_INFINITY) {}

  /** Whether a record at this position keeps the batch convertible: positions must rise per
   * partition within one source (a re-delivery after a seek is resolved by the commit path). */
  acceptsPosition(position: { readonly sourceId: string; readonly partition: number; readonly offset: bigint } | undefined): boolean {
    if (!position) return true;
    this.sourceId ??= position.sourceId;
    if (position.sourceId !== this.sourceId) return false;
    const last = this.lastOffset.get(position.partition);
    if (last !== undefined && position.offset <= last) return false;
    this.lastOffset.set(position.partition, position.offset);
    return true;
  }

  /** Adds a decoded record; converts a full chunk. */
  add(item: T, value: unknown, bytes: number): void {
    this.values.push(value);
    this.items.push(item);
    this.seqs.push(this.count++);
    this.pendingBytes += bytes;
    if (this.values.length >= CONVERSION_CHUNK_RECORDS || this.pendingBytes >= this.maxChunkBytes) this.convertPending();
  }

  /** Adds a record that cannot be written (e.g. its payload did not decode). */
  addDead(item: T, field: string, reason: string): void {
    this.problems.push({ item, field, reason, seq: this.count++ });
  }

  /** From here on the batch is committed from its records (decoded again where needed). */
  abandon(why: string): void {
    this.abandoned ??= why;
    this.values = [];
    this.items = [];
    this.seqs = [];
    this.groups.clear();
  }

  /** Converts what is pending; returns the batch's groups, or undefined when abandoned. */
  finish(): { groups: ConvertedGroup[]; dead: ConversionProblem<T>[] } | undefined {
    if (this.abandoned === undefined && this.values.length > 0) this.convertPending();
    if (this.abandoned !== undefined) return undefined;
    return { groups: [...this.groups.values()], dead: [...this.problems].sort((a, b) => a.seq - b.seq) };
  }

  private convertPending(): void {
    const { values, items, seqs, pendingBytes } = this;
    this.values = [];
    this.items = [];
    this.seqs = [];
    this.pendingBytes = 0;
    if (this.abandoned !== undefined) return;
    try {
      try {
        this.convert(values, items, pendingBytes);
      } catch (err) {
        if (!(err instanceof RecordValidationError)) throw err;
        // A bad record in the chunk: each is checked as the whole-batch path checks it, the
        // bad ones set aside, the others converted.
        const okValues: unknown[] = [];
        const okItems: T[] = [];
        for (let i = 0; i < values.length; i++) {
          const problem = findRecordProblem(this.schema, values[i], this.fields);
          if (problem) this.problems.push({ item: items[i]!, field: problem.field, reason: problem.reason, seq: seqs[i]! });
          else { okValues.push(values[i]); okItems.push(items[i]!); }
        }
        if (okValues.length > 0) this.convert(okValues, okItems, (pendingBytes * okValues.length) / values.length);
      }
    } catch (err) {
      // The converter refused what the validator accepted (or failed otherwise): the commit
      // path decides, from the records, with the error it always gave.
      this.abandon(`conversion failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Converts every record or throws, adding nothing (a bad record leaves no half chunk). */
  private convert(values: readonly unknown[], items: readonly T[], bytes: number): void {
    const converted = groupByPartition(values, this.fields, this.schema).map((g) => ({
      tuple: g.tuple, rows: g.rows.length,
      batch: recordsToArrow(this.schema, g.rows.length === values.length ? values : g.rows.map((r) => values[r]), g.rows),
    }));
    for (const c of converted) {
      const key = partitionKey(c.tuple);
      let g = this.groups.get(key);
      if (!g) { g = { tuple: c.tuple, batches: [], inputBytes: 0 }; this.groups.set(key, g); }
      g.batches.push(c.batch);
      g.inputBytes += (bytes * c.rows) / values.length;
    }
    for (const it of items) this.good.push(it);
  }
}
