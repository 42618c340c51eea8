// Inclusive projection of a predicate through partition transforms (Iceberg's
// Projections.inclusive): each leaf becomes a predicate on partition fields that every row
// matching the leaf satisfies, so a partition (or a whole manifest) failing it holds no match.
// identity is exact; bucket projects = and IN; truncate and year/month/day/hour also project
// the order comparisons (they are monotone); void and everything else project to "unknown".
import { ValueTypeError } from '../errors.ts';
import type { FieldSummary, PartitionTuple } from '../spec/data-file.ts';
import type { PartitionSpec } from '../spec/partition-spec.ts';
import { partitionType, type PartitionFieldType } from '../spec/partition-spec.ts';
import type { Schema } from '../spec/schema.ts';
import { applyTransform } from '../spec/transforms.ts';
import type { PrimitiveType, PrimitiveValue } from '../spec/types.ts';
import type { BoundExpr, BoundReference } from './bind-predicate.ts';
import { decodeBound, leafMightMatch } from './file-metrics-evaluators.ts';
import { evaluateNormal, leafHolds, toNormalForm, type Leaf, type NormalExpr } from './normal-form.ts';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const UNKNOWN: NormalExpr = { kind: 'true' };
const NEVER: NormalExpr = { kind: 'false' };

/** A partition field as a column of the partition struct (its id is the partition field id). */
interface ProjectionTarget {
  readonly field: PartitionFieldType;
  /** Index of the field in the spec, i.e. in partition tuples and manifest summaries. */
  readonly position: number;
  readonly ref: BoundReference;
}

/** A condition on the partition field that every row matching `leaf` satisfies. */
function projectLeaf(leaf: Leaf, target: ProjectionTarget): NormalExpr {
  const { field, ref } = target;
  const t = field.transform;
  if (t.kind === 'void') return UNKNOWN;
  if (t.kind === 'identity') return { ...leaf, ref };
  // Every other transform maps null to null and a value to a non-null value.
  if (leaf.kind === 'is-null') return { kind: 'is-null', ref, negated: leaf.negated };
  const notNull: NormalExpr = { kind: 'is-null', ref, negated: true };
  if (leaf.kind === 'is-nan') return notNull; // not reached: these transforms refuse float columns
  const apply = (v: PrimitiveValue): PrimitiveValue => applyTransform(t, field.sourceType, v)!;
  if (leaf.kind === 'in') return leaf.negated ? notNull : { kind: 'in', ref, values: leaf.values.map(apply), negated: false };
  const op = leaf.op;
  if (op === '=') return { kind: 'cmp', op: '=', ref, value: apply(leaf.value) };
  if (op === '!=' || t.kind === 'bucket') return notNull;
  // truncate, year, month, day, hour are monotone: x ≤ v ⇒ t(x) ≤ t(v), x ≥ v ⇒ t(x) ≥ t(v).
  // On integral types x < v is x ≤ v - 1 (Java's ProjectionUtil does the same), which keeps
  // `ts < '2024-01-02T00:00'` from reading the partition day(ts) = 2024-01-02.
  const below = op === '<' || op === '<=';
  const v = op === '<' || op === '>' ? stepTowardsInside(field.sourceType, leaf.value, op === '<' ? -1 : 1) : leaf.value;
  if (v === undefined) return NEVER; // x < MIN or x > MAX: no value satisfies the leaf
  const tv = apply(v);
  const projected: NormalExpr = { kind: 'cmp', op: below ? '<=' : '>=', ref, value: tv };
  const source = field.sourceType.kind;
  if (t.kind === 'truncate' && (source === 'int' || source === 'long')) {
    return truncatedIntegerProjection(below, projected, ref, tv, v, t.width, source);
  }
  return projected;
}

/**
 * truncate on int/long wraps like Java's arithmetic for values within `width` of the type's
 * minimum (transforms.ts), landing them just below the type's maximum, so monotonicity fails
 * there. `<`/`<=` also admit the wrapped range; for `>`/`>=` a literal that wraps itself
 * bounds nothing.
 */
function truncatedIntegerProjection(
  below: boolean, projected: NormalExpr, ref: BoundReference, tv: PrimitiveValue, v: PrimitiveValue, width: number, kind: 'int' | 'long',
): NormalExpr {
  if (below) {
    const start = kind === 'int' ? BigInt(INT32_MAX) - BigInt(width) + 2n : INT64_MAX - BigInt(width) + 2n;
    const wrapZone: NormalExpr = { kind: 'cmp', op: '>=', ref, value: kind === 'int' ? Number(start) : start };
    return { kind: 'or', left: projected, right: wrapZone };
  }
  // t(v) > v happens only when v itself wrapped.
  return BigInt(tv as number | bigint) > BigInt(v as number | bigint) ? { kind: 'is-null', ref, negated: true } : projected;
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

function referencedIds(e: BoundExpr): number[] {
  switch (e.kind) {
    case 'true': case 'false': return [];
    case 'not': return referencedIds(e.child);
    case 'and': case 'or': return [...referencedIds(e.left), ...referencedIds(e.right)];
    default: return [e.ref.fieldId];
  }
}

/** Partition fields by partition field id, with their spec positions. */
interface Projection {
  readonly expr: NormalExpr;
  readonly positions: ReadonlyMap<number, number>;
}

/**
 * The inclusive projection of `bound` onto `spec`'s partition fields: a NOT-free predicate whose
 * references are partition fields (BoundReference.fieldId = partition field id).
 */
function projectOntoSpec(bound: BoundExpr, spec: PartitionSpec, schema: Schema): Projection {
  // Only fields on columns the predicate reads: an old spec may name a since-dropped column,
  // which partitionType would refuse although it matters to no leaf here.
  const read = new Set(referencedIds(bound));
  const usable = spec.fields.map((f, position) => ({ f, position })).filter(({ f }) => read.has(f.sourceId));
  const types = partitionType({ specId: spec.specId, fields: usable.map(({ f }) => f) }, schema);
  const targets: ProjectionTarget[] = usable.map(({ position }, k) => {
    const field = types[k]!;
    return { field, position, ref: { fieldId: field.fieldId, column: field.name, type: field.type, neverNull: false } };
  });
  const project = (e: NormalExpr): NormalExpr => {
    switch (e.kind) {
      case 'true': case 'false': return e;
      case 'and': case 'or': return { kind: e.kind, left: project(e.left), right: project(e.right) };
      default: {
        let out: NormalExpr = UNKNOWN;
        for (const target of targets) {
          if (target.field.sourceId !== e.ref.fieldId) continue;
          const p = projectLeaf(e, target);
          out = out.kind === 'true' ? p : { kind: 'and', left: out, right: p };
        }
        return out;
      }
    }
  };
  return { expr: project(toNormalForm(bound)), positions: new Map(targets.map((t) => [t.ref.fieldId, t.position])) };
}

/** A value of another form than the current type (a partition written before int became long)
 * proves nothing rather than failing the scan. */
function unknownOnTypeMismatch(check: () => boolean): boolean {
  try {
    return check();
  } catch (err) {
    // ValueTypeError: floe's own form check; TypeError: JS refusing to mix bigint and number.
    if (err instanceof ValueTypeError || err instanceof TypeError) return true;
    throw err;
  }
}

/**
 * False only when the partition tuple proves that no row of the partition can match `bound`:
 * every file written with `spec` and this tuple can be skipped.
 */
export function mightMatchPartition(bound: BoundExpr, spec: PartitionSpec, schema: Schema, partition: PartitionTuple): boolean {
  const { expr, positions } = projectOntoSpec(bound, spec, schema);
  return evaluateNormal(expr, (leaf) => {
    const pv = partition[positions.get(leaf.ref.fieldId)!];
    if (pv === undefined) return true; // a tuple shorter than the spec proves nothing
    return unknownOnTypeMismatch(() => leafHolds(leaf, pv));
  });
}

/**
 * False only when a manifest's partition field summaries (manifest list `partitions`, in spec
 * order) prove that none of its files can hold a matching row (Iceberg's ManifestEvaluator).
 * `partitions` null (v1 manifest lists may omit them) proves nothing.
 */
export function mightMatchManifest(
  bound: BoundExpr, spec: PartitionSpec, schema: Schema, partitions: readonly FieldSummary[] | null,
): boolean {
  if (partitions === null) return true;
  const { expr, positions } = projectOntoSpec(bound, spec, schema);
  return evaluateNormal(expr, (leaf) => {
    const summary = partitions[positions.get(leaf.ref.fieldId)!];
    if (summary === undefined) return true;
    const type = leaf.ref.type;
    // Java writes uuid summaries in java.util.UUID's signed order (src/format/manifest-writer.ts).
    const ordered = type.kind !== 'uuid';
    const lower = summary.lowerBound === null || !ordered ? undefined : decodeBound(type, summary.lowerBound);
    const upper = summary.upperBound === null || !ordered ? undefined : decodeBound(type, summary.upperBound);
    return unknownOnTypeMismatch(() => leafMightMatch(leaf, {
      recordCount: undefined,
      valueCount: undefined,
      nullCount: summary.containsNull ? undefined : 0n,
      nanCount: summary.containsNan === false ? 0n : undefined,
      lower,
      upper,
      // Spec: the bounds are null only when every value is null or NaN.
      onlyNullOrNaN: summary.lowerBound === null && summary.upperBound === null,
    }));
  });
}
