// Inclusive projection of a predicate through partition transforms (Iceberg's
// Projections.inclusive): for each leaf, a condition on the partition value that every row
// matching the leaf satisfies. A file whose partition tuple fails it holds no matching row.
// identity is exact; bucket projects = and IN; truncate and year/month/day/hour also project
// the order comparisons (they are monotone); void and everything else project to "unknown".
import type { PartitionTuple } from '../spec/data-file.ts';
import type { PartitionSpec } from '../spec/partition-spec.ts';
import { partitionType, type PartitionFieldType } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import { applyTransform } from '../spec/transforms.ts';
import type { PrimitiveType, PrimitiveValue } from '../spec/types.ts';
import type { BoundExpr } from './bind-predicate.ts';
import { compareForPredicate, evaluateNormal, leafHolds, toNormalForm, type Leaf } from './normal-form.ts';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Whether a row matching `leaf` can have partition value `pv` under `field`. */
function projectionAllows(leaf: Leaf, field: PartitionFieldType, pv: PrimitiveValue | null): boolean {
  const t = field.transform;
  if (t.kind === 'void') return true;
  if (t.kind === 'identity') return leafHolds(leaf, pv);
  // Every other transform maps null to null and a value to a non-null value.
  if (leaf.kind === 'is-null') return (pv === null) === !leaf.negated;
  if (pv === null) return false; // every remaining leaf needs a non-null value
  if (leaf.kind === 'is-nan') return true; // not reached: these transforms refuse float columns
  const apply = (v: PrimitiveValue): PrimitiveValue => applyTransform(t, field.sourceType, v)!;
  const equal = (v: PrimitiveValue): boolean => compareForPredicate(field.type, pv, apply(v)) === 0;
  if (leaf.kind === 'in') return leaf.negated || leaf.values.some(equal);
  const op = leaf.op;
  if (op === '=') return equal(leaf.value);
  if (op === '!=' || t.kind === 'bucket') return true;
  // truncate, year, month, day, hour are monotone: x ≤ v ⇒ t(x) ≤ t(v), x ≥ v ⇒ t(x) ≥ t(v).
  // On integral types x < v is x ≤ v - 1 (Java's ProjectionUtil does the same), which keeps
  // `ts < '2024-01-02T00:00'` from reading the partition day(ts) = 2024-01-02.
  const below = op === '<' || op === '<=';
  const v = op === '<' || op === '>' ? stepTowardsInside(field.sourceType, leaf.value, op === '<' ? -1 : 1) : leaf.value;
  if (v === undefined) return false; // x < MIN or x > MAX: no value satisfies the leaf
  const tv = apply(v);
  const c = compareForPredicate(field.type, pv, tv);
  if (t.kind === 'truncate' && (field.sourceType.kind === 'int' || field.sourceType.kind === 'long')) {
    return truncatedIntegerAllows(below, c, pv, tv, v, t.width, field.sourceType.kind);
  }
  return below ? c <= 0 : c >= 0;
}

/** v + step for integral types (undefined when that leaves the type); v itself otherwise. */
function stepTowardsInside(type: PrimitiveType, v: PrimitiveValue, step: -1 | 1): PrimitiveValue | undefined {
  switch (type.kind) {
    case 'int':
    case 'date': {
      const next = (v as number) + step;
      return next < INT32_MIN || next > INT32_MAX ? undefined : next;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const next = (v as bigint) + BigInt(step);
      return next < INT64_MIN || next > INT64_MAX ? undefined : next;
    }
    case 'decimal':
      return (v as bigint) + BigInt(step);
    default:
      return v;
  }
}

/**
 * truncate on int/long wraps like Java's arithmetic for values within `width` of the type's
 * minimum (transforms.ts), landing them just below the type's maximum, so monotonicity fails
 * there. Such a wrapped partition value is allowed for `<`/`<=`; for `>`/`>=` a literal in the
 * wrap zone gives no usable bound.
 */
function truncatedIntegerAllows(
  below: boolean, c: number, pv: PrimitiveValue, tv: PrimitiveValue, v: PrimitiveValue, width: number, kind: 'int' | 'long',
): boolean {
  const wrapZoneStart = kind === 'int' ? BigInt(INT32_MAX) - BigInt(width) + 2n : INT64_MAX - BigInt(width) + 2n;
  const wrapped = (x: PrimitiveValue): boolean => BigInt(x as number | bigint) >= wrapZoneStart;
  if (below) return c <= 0 || wrapped(pv);
  // t(v) > v happens only when v itself wrapped.
  if (BigInt(tv as number | bigint) > BigInt(v as number | bigint)) return true;
  return c >= 0;
}

function referencedIds(e: BoundExpr): number[] {
  switch (e.kind) {
    case 'true': case 'false': return [];
    case 'not': return referencedIds(e.child);
    case 'and': case 'or': return [...referencedIds(e.left), ...referencedIds(e.right)];
    default: return [e.ref.fieldId];
  }
}

/** A tuple value of another form than the current type (a partition written before int became
 * long) proves nothing rather than failing the scan. */
function projectionAllowsSafely(leaf: Leaf, field: PartitionFieldType, pv: PrimitiveValue | null): boolean {
  try {
    return projectionAllows(leaf, field, pv);
  } catch (err) {
    if (err instanceof TypeError) return true;
    throw err;
  }
}

/**
 * False only when the partition tuple proves that no row of the partition can match `bound`:
 * the whole partition (every file written with `spec` and this tuple) can be skipped.
 */
export function mightMatchPartition(bound: BoundExpr, spec: PartitionSpec, schema: Schema, partition: PartitionTuple): boolean {
  // Only fields on columns the predicate reads: an old spec may name a since-dropped column,
  // which partitionType would refuse although it matters to no leaf here.
  const read = new Set(referencedIds(bound));
  const usable = spec.fields.map((f, index) => ({ f, index })).filter(({ f }) => read.has(f.sourceId));
  const types = partitionType({ specId: spec.specId, fields: usable.map(({ f }) => f) }, schema);
  return evaluateNormal(toNormalForm(bound), (leaf) => {
    for (let k = 0; k < usable.length; k++) {
      const i = usable[k]!.index;
      const field = types[k]!;
      if (field.sourceId !== leaf.ref.fieldId) continue;
      const pv = partition[i];
      if (pv === undefined) continue; // a tuple shorter than the spec proves nothing
      if (!projectionAllowsSafely(leaf, field, pv)) return false;
    }
    return true;
  });
}
