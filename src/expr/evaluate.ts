// Evaluating a bound `--where` predicate: on one row (SQL three-valued logic, TRUE only
// matches), and on a data file's metrics, a partition tuple or a manifest's partition summaries
// (file-metrics-evaluators.ts, partition-projection.ts, re-exported here so callers import one
// module).
import type { PrimitiveValue } from '../spec/types.ts';
import type { BoundExpr } from './bind-predicate.ts';
import { compareHolds, inList } from './normal-form.ts';

export { mightMatchFile, mustMatchFile, DEFAULT_BOUND_TRUNCATE_LENGTH, type StrictMetricsOptions } from './file-metrics-evaluators.ts';
export { mightMatchManifest, mightMatchPartition } from './partition-projection.ts';

/** SQL's three truth values; null is UNKNOWN. */
type Truth = boolean | null;

function truthOf(expr: BoundExpr, get: (fieldId: number) => PrimitiveValue | null): Truth {
  switch (expr.kind) {
    case 'true': return true;
    case 'false': return false;
    case 'not': {
      const t = truthOf(expr.child, get);
      return t === null ? null : !t;
    }
    case 'and': {
      const l = truthOf(expr.left, get);
      if (l === false) return false;
      const r = truthOf(expr.right, get);
      if (r === false) return false;
      return l === null || r === null ? null : true;
    }
    case 'or': {
      const l = truthOf(expr.left, get);
      if (l === true) return true;
      const r = truthOf(expr.right, get);
      if (r === true) return true;
      return l === null || r === null ? null : false;
    }
    case 'is-null':
      return (get(expr.ref.fieldId) === null) !== expr.negated;
    case 'cmp': {
      const value = get(expr.ref.fieldId);
      return value === null ? null : compareHolds(expr.op, expr.ref.type, value, expr.value);
    }
    case 'in': {
      const value = get(expr.ref.fieldId);
      return value === null ? null : inList(expr.ref.type, value, expr.values) !== expr.negated;
    }
  }
}

/**
 * Whether one row matches: the predicate must be TRUE under SQL's three-valued logic, so a
 * comparison with a null value matches neither itself nor its NOT. `get` returns a column's
 * value by field id (null also when an enclosing struct is null).
 */
export function evaluateRow(bound: BoundExpr, get: (fieldId: number) => PrimitiveValue | null): boolean {
  return truthOf(bound, get) === true;
}

/** Field ids of the columns the predicate reads, ascending and without repeats. */
export function referencedFieldIds(bound: BoundExpr): number[] {
  const ids = new Set<number>();
  const walk = (e: BoundExpr): void => {
    switch (e.kind) {
      case 'true': case 'false': return;
      case 'not': walk(e.child); return;
      case 'and': case 'or': walk(e.left); walk(e.right); return;
      default: ids.add(e.ref.fieldId);
    }
  };
  walk(bound);
  return [...ids].sort((a, b) => a - b);
}
