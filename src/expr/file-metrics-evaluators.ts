// What a data file's column metrics (value/null/NaN counts, lower/upper bounds) prove about a
// predicate, as Iceberg's InclusiveMetricsEvaluator ("might any row match?") and
// StrictMetricsEvaluator ("does every row match?") do. Both work on the NOT-free form
// (normal-form.ts) and answer "unknown" conservatively: missing metrics never prove anything.
import type { DataFile } from '../spec/data-file.ts';
import type { Schema } from '../spec/schema.ts';
import { decodeSingleValue } from '../spec/single-value.ts';
import type { PrimitiveType, PrimitiveValue } from '../spec/types.ts';
import type { BoundExpr, BoundReference } from './bind-predicate.ts';
import {
  compareForPredicate, evaluateNormal, isFloating, isNaNValue, toNormalForm, type Leaf,
} from './normal-form.ts';

/** Iceberg's default `write.metadata.metrics.default` is truncate(16). */
export const DEFAULT_BOUND_TRUNCATE_LENGTH = 16;

export interface StrictMetricsOptions {
  /**
   * String and binary bounds this long (code points / bytes) or longer may have been truncated
   * by the writer's metrics mode, so they do not prove equality. Default 16 (Iceberg's default
   * `truncate(16)`); pass Infinity only when every writer used `full` metrics.
   */
  readonly boundTruncateLength?: number;
}

/** The metrics of one column of one file (or one partition field of a manifest), decoded. */
export interface ColumnStats {
  readonly recordCount: bigint | undefined;
  readonly valueCount: bigint | undefined;
  readonly nullCount: bigint | undefined;
  readonly nanCount: bigint | undefined;
  readonly lower: PrimitiveValue | undefined;
  readonly upper: PrimitiveValue | undefined;
  /** Known that every value is null or NaN (a manifest summary without bounds). */
  readonly onlyNullOrNaN?: boolean;
}

export function decodeBound(type: PrimitiveType, bytes: Uint8Array | undefined): PrimitiveValue | undefined {
  if (bytes === undefined) return undefined;
  try {
    const value = decodeSingleValue(type, bytes);
    // Old writers put NaN into float bounds; such a bound orders nothing (Java ignores it too).
    return isNaNValue(value) ? undefined : value;
  } catch {
    // A bound of an unexpected width (e.g. written before a type change we do not know) proves
    // nothing; treating it as missing keeps the file in play.
    return undefined;
  }
}

function statsOf(file: DataFile, schema: Schema, ref: BoundReference): ColumnStats {
  const id = ref.fieldId;
  // Bounds of a leaf inside a list or map describe elements, not rows; binding refuses those
  // columns, and this keeps a caller's schema/ref mismatch from misreading them.
  // uuid bounds written by Java (Spark, Trino) follow java.util.UUID's signed order, not the
  // unsigned byte order compareValues uses; floe writes none, and trusting others' would
  // prune files that hold matches (see src/format/file-metrics.ts).
  const usable = schema.isOutsideRepeated(id) && ref.type.kind !== 'uuid';
  return {
    recordCount: file.recordCount,
    valueCount: file.valueCounts?.get(id),
    nullCount: file.nullValueCounts?.get(id),
    nanCount: file.nanValueCounts?.get(id),
    lower: usable ? decodeBound(ref.type, file.lowerBounds?.get(id)) : undefined,
    upper: usable ? decodeBound(ref.type, file.upperBounds?.get(id)) : undefined,
  };
}

function nullsOnly(s: ColumnStats): boolean {
  if (s.onlyNullOrNaN === true && s.nanCount === 0n) return true;
  return s.valueCount !== undefined && s.nullCount !== undefined && s.valueCount === s.nullCount;
}

function nansOnly(s: ColumnStats): boolean {
  return s.valueCount !== undefined && s.nanCount !== undefined && s.valueCount === s.nanCount;
}

/** No value that an order comparison, = or IN can hold for: all null or NaN. */
function noOrderedValues(s: ColumnStats): boolean {
  return s.onlyNullOrNaN === true || nullsOnly(s) || nansOnly(s);
}

// ---------------------------------------------------------------------------------------------
// Inclusive: false only when the metrics prove that no row makes the leaf TRUE.

export function leafMightMatch(leaf: Leaf, s: ColumnStats): boolean {
  const type = leaf.ref.type;
  switch (leaf.kind) {
    case 'is-null':
      if (leaf.negated) return !nullsOnly(s);
      return leaf.ref.neverNull ? false : s.nullCount === undefined || s.nullCount > 0n;
    case 'is-nan':
      if (!isFloating(type) || nullsOnly(s)) return false;
      return s.nanCount === undefined || s.nanCount > 0n;
    case 'in':
      if (nullsOnly(s)) return false;
      // NOT IN holds for NaN and for any value outside the list: bounds rarely exclude that.
      if (leaf.negated) return true;
      if (noOrderedValues(s)) return false;
      return leaf.values.some((v) => withinBounds(type, v, s));
    case 'cmp': {
      if (nullsOnly(s)) return false;
      if (leaf.op === '!=') return true;
      if (noOrderedValues(s)) return false;
      const v = leaf.value;
      switch (leaf.op) {
        // A truncated lower bound is still ≤ every value and a truncated upper bound still ≥.
        case '<': return s.lower === undefined || compareForPredicate(type, s.lower, v) < 0;
        case '<=': return s.lower === undefined || compareForPredicate(type, s.lower, v) <= 0;
        case '>': return s.upper === undefined || compareForPredicate(type, s.upper, v) > 0;
        case '>=': return s.upper === undefined || compareForPredicate(type, s.upper, v) >= 0;
        case '=': return withinBounds(type, v, s);
      }
    }
  }
}

function withinBounds(type: PrimitiveType, v: PrimitiveValue, s: ColumnStats): boolean {
  if (s.lower !== undefined && compareForPredicate(type, s.lower, v) > 0) return false;
  if (s.upper !== undefined && compareForPredicate(type, s.upper, v) < 0) return false;
  return true;
}

/**
 * False only when the file's metrics prove that no row can match `bound` (Iceberg's
 * InclusiveMetricsEvaluator): the file need not be read for a delete.
 */
export function mightMatchFile(bound: BoundExpr, file: DataFile, schema: Schema): boolean {
  if (file.recordCount <= 0n) return false;
  return evaluateNormal(toNormalForm(bound), (leaf) => leafMightMatch(leaf, statsOf(file, schema, leaf.ref)));
}

// ---------------------------------------------------------------------------------------------
// Strict: true only when the metrics prove that every row makes the leaf TRUE.

function provablyNoNulls(ref: BoundReference, s: ColumnStats): boolean {
  return ref.neverNull || s.nullCount === 0n;
}

function provablyNoNaNs(type: PrimitiveType, s: ColumnStats): boolean {
  return !isFloating(type) || s.nanCount === 0n;
}

/** Whether a bound is certainly a column value, not a truncated stand-in. */
function boundIsExact(type: PrimitiveType, value: PrimitiveValue, truncateLength: number): boolean {
  switch (type.kind) {
    case 'string': return [...(value as string)].length < truncateLength;
    case 'binary': return (value as Uint8Array).length < truncateLength;
    case 'fixed': return (value as Uint8Array).length === type.length;
    default: return true;
  }
}

/** The single value every non-null row holds, when the bounds prove there is exactly one. */
function onlyValue(type: PrimitiveType, s: ColumnStats, truncateLength: number): PrimitiveValue | undefined {
  if (s.lower === undefined || s.upper === undefined) return undefined;
  if (compareForPredicate(type, s.lower, s.upper) !== 0) return undefined;
  if (!boundIsExact(type, s.lower, truncateLength) || !boundIsExact(type, s.upper, truncateLength)) return undefined;
  return s.lower;
}

function leafMustMatch(leaf: Leaf, s: ColumnStats, truncateLength: number): boolean {
  const type = leaf.ref.type;
  switch (leaf.kind) {
    case 'is-null':
      return leaf.negated ? provablyNoNulls(leaf.ref, s) : nullsOnly(s);
    case 'is-nan':
      return isFloating(type) && nansOnly(s);
    case 'in': {
      if (!provablyNoNulls(leaf.ref, s)) return false;
      if (leaf.negated) {
        // NaN rows satisfy NOT IN; every other value must lie outside [lower, upper] of the list.
        return leaf.values.every((v) => outsideBounds(type, v, s));
      }
      if (!provablyNoNaNs(type, s)) return false;
      const only = onlyValue(type, s, truncateLength);
      return only !== undefined && leaf.values.some((v) => compareForPredicate(type, only, v) === 0);
    }
    case 'cmp': {
      if (!provablyNoNulls(leaf.ref, s)) return false;
      const v = leaf.value;
      if (leaf.op === '!=') return outsideBounds(type, v, s);
      if (!provablyNoNaNs(type, s)) return false;
      switch (leaf.op) {
        // Truncation keeps upper ≥ every value and lower ≤ every value, so these stay sound.
        case '<': return s.upper !== undefined && compareForPredicate(type, s.upper, v) < 0;
        case '<=': return s.upper !== undefined && compareForPredicate(type, s.upper, v) <= 0;
        case '>': return s.lower !== undefined && compareForPredicate(type, s.lower, v) > 0;
        case '>=': return s.lower !== undefined && compareForPredicate(type, s.lower, v) >= 0;
        case '=': {
          const only = onlyValue(type, s, truncateLength);
          return only !== undefined && compareForPredicate(type, only, v) === 0;
        }
      }
    }
  }
}

function outsideBounds(type: PrimitiveType, v: PrimitiveValue, s: ColumnStats): boolean {
  return (s.lower !== undefined && compareForPredicate(type, v, s.lower) < 0)
    || (s.upper !== undefined && compareForPredicate(type, v, s.upper) > 0);
}

/**
 * True only when the file's metrics prove that every row matches `bound` (Iceberg's
 * StrictMetricsEvaluator): a delete can drop the whole file without reading it.
 */
export function mustMatchFile(bound: BoundExpr, file: DataFile, schema: Schema, options: StrictMetricsOptions = {}): boolean {
  if (file.recordCount <= 0n) return true;
  const truncateLength = options.boundTruncateLength ?? DEFAULT_BOUND_TRUNCATE_LENGTH;
  return evaluateNormal(toNormalForm(bound), (leaf) => leafMustMatch(leaf, statsOf(file, schema, leaf.ref), truncateLength));
}
