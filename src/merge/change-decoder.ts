// Raw input records → keyed changes (upsert or delete) for MERGE and upsert ingest: the plain
// format (a row, optionally with an op field) and Debezium change events. Pure: no I/O. A bad
// record is never thrown: it comes back in `rejected` with a one-line reason, and the caller
// makes it an error (the CLI) or a dead letter (ingest).
import { ValidationError } from '../errors.ts';
import type { Schema } from '../spec/schema.ts';
import type { PrimitiveValue } from '../spec/types.ts';
import { describe } from '../writer/value-parsers.ts';
import { fieldValue, isInheritedName } from '../writer/value-shapes.ts';
import { parseOrderValue, type OrderValue } from './change-order.ts';
import { keyEncoder, keyValuesOfRecord } from './row-key.ts';

export type ChangeOp = 'upsert' | 'delete';

export interface Change {
  readonly op: ChangeOp;
  /** keyEncoder(schema).encode(keyValues). */
  readonly key: string;
  readonly keyValues: (PrimitiveValue | null)[];
  /** The record to write (the input object itself unless a field had to be left out; the
   * Debezium `after` image); null for a delete. */
  readonly row: Record<string, unknown> | null;
  /** See change-order.ts; null when the input has no order. */
  readonly order: OrderValue | null;
  /** Position of the record in the input. */
  readonly index: number;
}

export interface RejectedChange { readonly index: number; readonly reason: string }

export interface DecodeChangesOptions {
  readonly schema: Schema;
  readonly format: 'plain' | 'debezium';
  /** plain only: the top-level field holding each record's op (c/r/u/d, insert/update/upsert/
   * delete, I/U/D; any case; a dot is part of the name). Without it every record is an
   * upsert. Unless it is a table column, the field is left out of the row written. */
  readonly opField?: string;
  /** A dotted path to the order value (rule in change-order.ts): into the record (plain) or
   * into the event envelope (debezium: `source.lsn`, `ts_ms`, `source.ts_ms`,
   * `after.updated_at`). Plain: when the path's first name is not a table column, that field
   * is left out of the row written, as the op field is. Debezium's default: see below. */
  readonly orderBy?: string;
}

export interface DecodedChanges {
  readonly changes: Change[];
  readonly rejected: RejectedChange[];
  /** The path the changes were ordered by (orderBy, or Debezium's default), null for none:
   * pass `orderPath !== null` to latestPerKey as hasOrder. */
  readonly orderPath: string | null;
}

const OPS: ReadonlyMap<string, ChangeOp> = new Map<string, ChangeOp>([
  ['c', 'upsert'], ['r', 'upsert'], ['u', 'upsert'], ['i', 'upsert'],
  ['insert', 'upsert'], ['update', 'upsert'], ['upsert', 'upsert'],
  ['d', 'delete'], ['delete', 'delete'],
]);
const PLAIN_OPS_TEXT = 'c, r, u, d, insert, update, upsert, delete, I, U or D';

/** A path step read as an own property when the name is inherited (`constructor`). */
interface Step { readonly name: string; readonly inherited: boolean }

function stepsOf(path: string): Step[] {
  return path.split('.').map((name) => ({ name, inherited: isInheritedName(name) }));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Map) && !(v instanceof Date);
}

function valueAt(obj: Record<string, unknown>, steps: readonly Step[]): unknown {
  let v: unknown = obj;
  for (const s of steps) {
    if (!isRecord(v)) return undefined;
    v = fieldValue(v, s.name, s.inherited);
  }
  return v;
}

/** The value at a dotted path of a record (own properties only), undefined where it is absent. */
export function valueAtPath(record: unknown, path: string): unknown {
  return isRecord(record) ? valueAt(record, stepsOf(path)) : undefined;
}

function kindText(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** The key tuple of `source`, or why it cannot be used (a null field, a value its type
 * refuses), prefixed with `where`. */
function readKey(d: Decoder, source: unknown, where: string): (PrimitiveValue | null)[] | string {
  let values: (PrimitiveValue | null)[];
  try {
    values = keyValuesOfRecord(d.schema, source);
  } catch (err) {
    if (err instanceof ValidationError) return `${where}${err.message}`;
    throw err;
  }
  const missing = values.indexOf(null);
  if (missing >= 0) return `${where}key field '${d.names[missing]}' is missing (null)`;
  return values;
}

/** A record's top-level field that is not a table column is removed from the written row. */
function withoutFields(row: Record<string, unknown>, drop: readonly string[]): Record<string, unknown> {
  let has = false;
  for (const d of drop) if (Object.hasOwn(row, d)) has = true;
  if (!has) return row;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(row)) if (k !== drop[0] && (drop.length === 1 || !drop.includes(k))) out[k] = row[k];
  return out;
}

interface Decoder {
  readonly schema: Schema;
  readonly names: readonly string[];
  readonly encode: (values: readonly (PrimitiveValue | null)[]) => string;
  readonly changes: Change[];
  readonly rejected: RejectedChange[];
}

function newDecoder(schema: Schema): Decoder {
  const enc = keyEncoder(schema);
  return { schema, names: enc.names, encode: enc.encode, changes: [], rejected: [] };
}

/** The order value at `steps`, or why the record cannot be ordered. */
function orderOf(source: Record<string, unknown>, steps: readonly Step[], path: string): { value: OrderValue } | string {
  const raw = valueAt(source, steps);
  if (raw === null || raw === undefined) return `order field '${path}' is missing (null)`;
  const r = parseOrderValue(raw);
  return 'problem' in r ? `order field '${path}': ${r.problem}` : r;
}

/**
 * Decodes records into changes. Throws (ValidationError) only for bad options or a schema
 * without identifier fields; every bad record is returned in `rejected`.
 */
export function decodeChanges(records: readonly unknown[], opts: DecodeChangesOptions): DecodedChanges {
  if (opts.orderBy !== undefined && (opts.orderBy === '' || opts.orderBy.split('.').includes(''))) {
    throw new ValidationError(`order-by path ${JSON.stringify(opts.orderBy)} is not a dotted field path`);
  }
  if (opts.format === 'plain') return decodePlain(records, opts);
  if (opts.opField !== undefined) {
    throw new ValidationError('an op field applies to the plain format only: Debezium events carry their own op');
  }
  return decodeDebezium(records, opts);
}

function decodePlain(records: readonly unknown[], opts: DecodeChangesOptions): DecodedChanges {
  const d = newDecoder(opts.schema);
  const { opField, orderBy } = opts;
  if (opField === '') throw new ValidationError('the op field name is empty');
  const columns = new Set(opts.schema.fields.map((f) => f.name));
  // Fields the merge options consume are not written unless they are table columns.
  const drop: string[] = [];
  if (opField !== undefined && !columns.has(opField)) drop.push(opField);
  const orderTop = orderBy?.split('.')[0];
  if (orderTop !== undefined && !columns.has(orderTop) && !drop.includes(orderTop)) drop.push(orderTop);
  const opInherited = opField !== undefined && isInheritedName(opField);
  const orderSteps = orderBy === undefined ? undefined : stepsOf(orderBy);

  for (let index = 0; index < records.length; index++) {
    const problem = decodePlainRecord(d, records[index], index, opField, opInherited, orderSteps, orderBy, drop);
    if (problem !== undefined) d.rejected.push({ index, reason: problem });
  }
  return { changes: d.changes, rejected: d.rejected, orderPath: orderBy ?? null };
}

/** Adds the record's change to `d.changes`, or returns why it is rejected. */
function decodePlainRecord(
  d: Decoder, rec: unknown, index: number, opField: string | undefined, opInherited: boolean,
  orderSteps: readonly Step[] | undefined, orderBy: string | undefined, drop: readonly string[],
): string | undefined {
  if (!isRecord(rec)) return `expected a record (JSON object), got ${kindText(rec)} ${describe(rec)}`;
  let op: ChangeOp = 'upsert';
  if (opField !== undefined) {
    const raw = fieldValue(rec, opField, opInherited);
    if (raw === null || raw === undefined) return `op field '${opField}' is missing (null)`;
    const found = typeof raw === 'string' ? OPS.get(raw) ?? OPS.get(raw.toLowerCase()) : undefined;
    if (found === undefined) return `op field '${opField}' has unknown op ${describe(raw)} (expected ${PLAIN_OPS_TEXT})`;
    op = found;
  }
  const key = readKey(d, rec, op === 'delete' ? 'delete: ' : '');
  if (typeof key === 'string') return key;
  let order: OrderValue | null = null;
  if (orderSteps !== undefined) {
    const o = orderOf(rec, orderSteps, orderBy!);
    if (typeof o === 'string') return o;
    order = o.value;
  }
  const row = op === 'delete' ? null : drop.length > 0 ? withoutFields(rec, drop) : rec;
  d.changes.push({ op, key: d.encode(key), keyValues: key, row, order, index });
  return undefined;
}

// ---------- Debezium ----------

/** One event envelope: `{ op, before, after, source, ts_ms }`. */
interface Envelope { readonly index: number; readonly event: Record<string, unknown>; readonly op: ChangeOp; readonly image: Record<string, unknown> }

const SOURCE_LSN = stepsOf('source.lsn');
const TS_MS = stepsOf('ts_ms');

/**
 * The event's envelope: the record itself, or its `payload` when the record is the Kafka
 * Connect JSON converter's `{ schema, payload }` (schemas.enable=true). Null for a tombstone.
 */
function envelopeOf(rec: unknown): Record<string, unknown> | null | string {
  if (rec === null || rec === undefined) return null;
  if (!isRecord(rec)) return `expected a Debezium change event (JSON object), got ${kindText(rec)} ${describe(rec)}`;
  if (!Object.hasOwn(rec, 'op') && Object.hasOwn(rec, 'payload') && Object.hasOwn(rec, 'schema')) {
    const payload = rec.payload;
    // The converter writes a tombstone as { schema: null, payload: null }.
    if (payload === null || payload === undefined) return null;
    if (!isRecord(payload)) return `expected the Kafka Connect 'payload' to be a Debezium change event (JSON object), got ${kindText(payload)} ${describe(payload)}`;
    return payload;
  }
  return rec;
}

/** The event's envelope with the row image its key comes from; null for a tombstone (Kafka
 * log compaction's marker: no change); a string says why the record is rejected. */
function envelopeEvent(rec: unknown, index: number): Envelope | null | string {
  const event = envelopeOf(rec);
  if (event === null || typeof event === 'string') return event;
  const op = event.op;
  if (op === null || op === undefined) return "not a Debezium change event: no 'op' field (expected { op, before, after, source, ts_ms })";
  if (op === 't') return "Debezium op 't' (truncate) is not supported: a truncate removes every row, not one key; truncate the table separately";
  if (op === 'c' || op === 'r' || op === 'u') {
    const after = event.after;
    if (!isRecord(after)) return `Debezium op '${op}' has no 'after' row (got ${kindText(after)})`;
    return { index, event, op: 'upsert', image: after };
  }
  if (op === 'd') {
    const before = event.before;
    if (!isRecord(before)) return `Debezium delete has no 'before' row to take the key from (got ${kindText(before)})`;
    return { index, event, op: 'delete', image: before };
  }
  return `Debezium event has unknown op ${describe(op)} (expected c, r, u, d)`;
}

function decodeDebezium(records: readonly unknown[], opts: DecodeChangesOptions): DecodedChanges {
  const d = newDecoder(opts.schema);
  const envelopes: Envelope[] = [];
  for (let index = 0; index < records.length; index++) {
    const e = envelopeEvent(records[index], index);
    if (typeof e === 'string') d.rejected.push({ index, reason: e });
    else if (e !== null) envelopes.push(e);
  }

  // Default order: source.lsn (Postgres' write-ahead-log position: grows along the log) when every
  // event has one, else ts_ms (when the connector processed the change: milliseconds, so
  // changes within one millisecond tie and keep stream order), else none (stream order).
  // Decided for the whole input, so an lsn is never compared with a timestamp.
  let orderPath: string | null = opts.orderBy ?? null;
  if (orderPath === null && envelopes.length > 0) {
    const has = (steps: readonly Step[]): boolean => envelopes.every((e) => { const v = valueAt(e.event, steps); return v !== null && v !== undefined; });
    orderPath = has(SOURCE_LSN) ? 'source.lsn' : has(TS_MS) ? 'ts_ms' : null;
  }
  const orderSteps = orderPath === null ? undefined : stepsOf(orderPath);

  for (const e of envelopes) {
    const problem = decodeEnvelope(d, e, orderSteps, orderPath);
    if (problem !== undefined) d.rejected.push({ index: e.index, reason: problem });
  }
  // Rejections from both passes, in input order.
  d.rejected.sort((a, b) => a.index - b.index);
  return { changes: d.changes, rejected: d.rejected, orderPath };
}

/** Adds the event's change to `d.changes`, or returns why it is rejected. */
function decodeEnvelope(d: Decoder, e: Envelope, orderSteps: readonly Step[] | undefined, orderPath: string | null): string | undefined {
  const key = readKey(d, e.image, e.op === 'delete' ? "Debezium delete: 'before' " : "'after' ");
  if (typeof key === 'string') return key;
  let order: OrderValue | null = null;
  if (orderSteps !== undefined) {
    const o = orderOf(e.event, orderSteps, orderPath!);
    if (typeof o === 'string') return o;
    order = o.value;
  }
  d.changes.push({ op: e.op, key: d.encode(key), keyValues: key, row: e.op === 'delete' ? null : e.image, order, index: e.index });
  return undefined;
}
