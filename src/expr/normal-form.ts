// What a predicate means for one value, and the negation-free form the file and partition
// evaluators work on. Semantics (SQL, as Trino and Spark agree on them for nulls):
// - a row matches only when the predicate is TRUE under three-valued logic; a comparison or
//   IN with a null value is UNKNOWN, so neither `x = 1` nor `NOT (x = 1)` matches a null x;
// - NaN compares as IEEE 754 does (Trino): `=`, `<`, `<=`, `>`, `>=` and IN are FALSE for a
//   NaN value, `!=` and NOT IN are TRUE; hence NOT (x < 1) is TRUE for NaN but x >= 1 is not,
//   and pushing NOT down a float comparison adds an `is-nan` alternative;
// - -0.0 equals 0.0 (IEEE), although bounds order -0.0 first (compareValues): every bound
//   check below only needs "bound ≤ value" in IEEE order, which the total order implies.
import { compareValues } from '../spec/single-value.ts';
import type { PrimitiveType, PrimitiveValue } from '../spec/types.ts';
import type { ComparisonOp } from './parse-predicate.ts';
import type { BoundExpr, BoundReference } from './bind-predicate.ts';

export type Leaf =
  | { readonly kind: 'cmp'; readonly op: ComparisonOp; readonly ref: BoundReference; readonly value: PrimitiveValue }
  | { readonly kind: 'in'; readonly ref: BoundReference; readonly values: readonly PrimitiveValue[]; readonly negated: boolean }
  | { readonly kind: 'is-null'; readonly ref: BoundReference; readonly negated: boolean }
  /** TRUE for a NaN value; only produced by negating a float comparison. */
  | { readonly kind: 'is-nan'; readonly ref: BoundReference };

/** A predicate without NOT: its leaves are TRUE or not, and AND/OR are monotone over them. */
export type NormalExpr =
  | { readonly kind: 'and' | 'or'; readonly left: NormalExpr; readonly right: NormalExpr }
  | { readonly kind: 'true' | 'false' }
  | Leaf;

export function isFloating(type: PrimitiveType): boolean {
  return type.kind === 'float' || type.kind === 'double';
}

/** Order of two non-NaN values of `type`; floats in IEEE order (-0.0 = 0.0). */
export function compareForPredicate(type: PrimitiveType, a: PrimitiveValue, b: PrimitiveValue): number {
  if (isFloating(type)) {
    const x = a as number;
    const y = b as number;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareValues(type, a, b);
}

export function isNaNValue(value: PrimitiveValue): boolean {
  return typeof value === 'number' && Number.isNaN(value);
}

/** `value op literal` for a non-null value. */
export function compareHolds(op: ComparisonOp, type: PrimitiveType, value: PrimitiveValue, literal: PrimitiveValue): boolean {
  if (isNaNValue(value)) return op === '!=';
  const c = compareForPredicate(type, value, literal);
  switch (op) {
    case '=': return c === 0;
    case '!=': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
  }
}

export function inList(type: PrimitiveType, value: PrimitiveValue, values: readonly PrimitiveValue[]): boolean {
  return !isNaNValue(value) && values.some((v) => compareForPredicate(type, value, v) === 0);
}

/** Whether a leaf is TRUE for one value (null: the column's value is null). */
export function leafHolds(leaf: Leaf, value: PrimitiveValue | null): boolean {
  switch (leaf.kind) {
    case 'is-null': return (value === null) !== leaf.negated;
    case 'is-nan': return value !== null && isNaNValue(value);
    case 'cmp': return value !== null && compareHolds(leaf.op, leaf.ref.type, value, leaf.value);
    case 'in': return value !== null && inList(leaf.ref.type, value, leaf.values) !== leaf.negated;
  }
}

const NEGATED_OP: Readonly<Record<ComparisonOp, ComparisonOp>> = { '=': '!=', '!=': '=', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };

/** Pushes every NOT down to the leaves (De Morgan holds in three-valued logic). */
export function toNormalForm(expr: BoundExpr, negate = false): NormalExpr {
  switch (expr.kind) {
    case 'true':
    case 'false':
      return { kind: (expr.kind === 'true') !== negate ? 'true' : 'false' };
    case 'not':
      return toNormalForm(expr.child, !negate);
    case 'and':
    case 'or': {
      const kind = (expr.kind === 'and') !== negate ? 'and' : 'or';
      return { kind, left: toNormalForm(expr.left, negate), right: toNormalForm(expr.right, negate) };
    }
    case 'is-null':
      return { kind: 'is-null', ref: expr.ref, negated: expr.negated !== negate };
    case 'in':
      // NOT (x IN l) is TRUE exactly when x is non-null and in no element: x NOT IN l, NaN too.
      return { kind: 'in', ref: expr.ref, values: expr.values, negated: expr.negated !== negate };
    case 'cmp': {
      if (!negate) return expr;
      const negated: Leaf = { kind: 'cmp', op: NEGATED_OP[expr.op], ref: expr.ref, value: expr.value };
      // `=` and `!=` swap exactly for NaN; an order comparison is FALSE for NaN, so its negation
      // must still accept NaN.
      if (expr.op === '=' || expr.op === '!=' || !isFloating(expr.ref.type)) return negated;
      return { kind: 'or', left: negated, right: { kind: 'is-nan', ref: expr.ref } };
    }
  }
}

/** Evaluates a normal form with `leaf` deciding each leaf. */
export function evaluateNormal(expr: NormalExpr, leaf: (l: Leaf) => boolean): boolean {
  switch (expr.kind) {
    case 'true': return true;
    case 'false': return false;
    case 'and': return evaluateNormal(expr.left, leaf) && evaluateNormal(expr.right, leaf);
    case 'or': return evaluateNormal(expr.left, leaf) || evaluateNormal(expr.right, leaf);
    default: return leaf(expr);
  }
}
