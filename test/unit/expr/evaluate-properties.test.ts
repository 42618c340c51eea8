// Soundness of the file and partition evaluators against the row evaluator, on random rows and
// random predicates over every column family (fixed seeds, so a failure reproduces):
// - a row that matches keeps its partition (mightMatchPartition) and any file holding it
//   (mightMatchFile) in play, whatever the transforms, truncation or missing metrics;
// - when mustMatchFile says so, every row of the file matches;
// - the NOT-free form the evaluators use means the same as the predicate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { BoundExpr, BoundReference } from '../../../src/expr/bind-predicate.ts';
import { evaluateRow, mightMatchFile, mightMatchManifest, mightMatchPartition, mustMatchFile } from '../../../src/expr/evaluate.ts';
import { summarizePartitions } from '../../../src/format/manifest-writer.ts';
import { partitionType } from '../../../src/spec/partition-spec.ts';
import { evaluateNormal, leafHolds, toNormalForm } from '../../../src/expr/normal-form.ts';
import type { ComparisonOp } from '../../../src/expr/parse-predicate.ts';
import type { PartitionSpec } from '../../../src/spec/partition-spec.ts';
import { applyTransform, partitionPathSegment, type Transform } from '../../../src/spec/transforms.ts';
import { bindPredicate } from '../../../src/expr/bind-predicate.ts';
import { parsePredicate } from '../../../src/expr/parse-predicate.ts';
import type { PrimitiveValue } from '../../../src/spec/types.ts';
import { fileFromRows, getter, LEAF_IDS, schema, typeOf, type Row, type StatsOptions } from './expr-fixtures.ts';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const HOUR = 3_600_000_000n;

// Small domains, so predicates often hit values, bounds coincide and partitions collide.
const DOMAINS: Record<number, fc.Arbitrary<PrimitiveValue>> = {
  1: fc.oneof(fc.integer({ min: -4, max: 4 }), fc.constantFrom(INT_MIN, INT_MIN + 1, INT_MIN + 2, INT_MAX, INT_MAX - 1)),
  2: fc.oneof(fc.bigInt({ min: -6n, max: 6n }), fc.constantFrom(LONG_MIN, LONG_MIN + 1n, LONG_MAX, LONG_MAX - 2n)),
  3: fc.array(fc.constantFrom('a', 'b', 'é', '\uFFFF', '\u{10FFFF}', '\u{1F600}'), { maxLength: 5 }).map((cs) => cs.join('')),
  4: fc.constantFrom(-2, -0, 0, 1, 1.5, 3, Infinity, -Infinity, Number.NaN),
  5: fc.oneof(fc.integer({ min: -40, max: 40 }), fc.constantFrom(-366, -365, -1, 0, 31, 59, 365, 366, 730)),
  6: fc.tuple(fc.integer({ min: -50, max: 50 }), fc.constantFrom(-1n, 0n, 1n)).map(([h, d]) => BigInt(h) * HOUR * 11n + d),
  7: fc.bigInt({ min: -350n, max: 350n }),
  8: fc.boolean(),
  9: fc.array(fc.constantFrom(0, 1, 254, 255), { maxLength: 4 }).map((b) => Uint8Array.from(b)),
  11: fc.integer({ min: -3, max: 3 }),
  12: fc.constantFrom(-1, -0, 0, Math.fround(0.1), 2, Number.NaN),
};

function isNaNValue(v: PrimitiveValue): boolean {
  return typeof v === 'number' && Number.isNaN(v);
}

const literalOf = (id: number): fc.Arbitrary<PrimitiveValue> =>
  id === 12 ? fc.constantFrom(-1, 0, 0.1, Math.fround(0.1), 2) : DOMAINS[id]!.filter((v) => !isNaNValue(v));

const refOf = (id: number): BoundReference => ({
  fieldId: id, column: schema.findColumnName(id)!, type: typeOf(id), neverNull: id === 2,
});

const leaf: fc.Arbitrary<BoundExpr> = fc.constantFrom(...LEAF_IDS).chain((id) => fc.oneof(
  fc.tuple(fc.constantFrom<ComparisonOp>('=', '!=', '<', '<=', '>', '>='), literalOf(id))
    .map(([op, value]): BoundExpr => ({ kind: 'cmp', op, ref: refOf(id), value })),
  fc.tuple(fc.array(literalOf(id), { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([values, negated]): BoundExpr => ({ kind: 'in', ref: refOf(id), values, negated })),
  fc.boolean().map((negated): BoundExpr => ({ kind: 'is-null', ref: refOf(id), negated })),
));

const predicate: fc.Arbitrary<BoundExpr> = fc.letrec<{ e: BoundExpr }>((tie) => ({
  e: fc.oneof({ depthSize: 'small' },
    leaf,
    leaf,
    fc.constantFrom<BoundExpr>({ kind: 'true' }, { kind: 'false' }),
    fc.tuple(fc.constantFrom('and' as const, 'or' as const), tie('e'), tie('e')).map(([kind, left, right]): BoundExpr => ({ kind, left, right })),
    tie('e').map((child): BoundExpr => ({ kind: 'not', child })),
  ),
})).e;

// A row: each nullable column null one time in five; the required long never.
const rowArb: fc.Arbitrary<Row> = fc.tuple(...LEAF_IDS.map((id) =>
  (id === 2 ? DOMAINS[id]! : fc.option(DOMAINS[id]!, { freq: 5, nil: null })).map((v) => [id, v] as const),
)).map((entries) => new Map(entries));

const TRANSFORMS: Record<number, Transform[]> = {
  1: [{ kind: 'identity' }, { kind: 'bucket', n: 3 }, { kind: 'truncate', width: 3 }, { kind: 'void' }],
  2: [{ kind: 'identity' }, { kind: 'bucket', n: 4 }, { kind: 'truncate', width: 5 }],
  3: [{ kind: 'identity' }, { kind: 'bucket', n: 3 }, { kind: 'truncate', width: 1 }, { kind: 'truncate', width: 2 }],
  4: [{ kind: 'identity' }, { kind: 'void' }],
  5: [{ kind: 'identity' }, { kind: 'year' }, { kind: 'month' }, { kind: 'day' }, { kind: 'bucket', n: 3 }],
  6: [{ kind: 'identity' }, { kind: 'year' }, { kind: 'month' }, { kind: 'day' }, { kind: 'hour' }, { kind: 'bucket', n: 2 }],
  7: [{ kind: 'identity' }, { kind: 'truncate', width: 100 }, { kind: 'bucket', n: 3 }],
  8: [{ kind: 'identity' }],
  9: [{ kind: 'identity' }, { kind: 'truncate', width: 2 }, { kind: 'bucket', n: 2 }],
  11: [{ kind: 'identity' }, { kind: 'truncate', width: 2 }],
  12: [{ kind: 'identity' }],
};

const specArb: fc.Arbitrary<PartitionSpec> = fc.array(
  fc.constantFrom(...LEAF_IDS).chain((id) => fc.constantFrom(...TRANSFORMS[id]!).map((transform) => ({ id, transform }))),
  { minLength: 1, maxLength: 3 },
).map((fields) => ({
  specId: 0,
  fields: fields.map(({ id, transform }, i) => ({ sourceId: id, fieldId: 1000 + i, name: `p${i}`, transform })),
}));

const METRICS = ['valueCounts', 'nullValueCounts', 'nanValueCounts', 'lowerBounds', 'upperBounds'] as const;
const statsArb: fc.Arbitrary<StatsOptions> = fc.record({
  truncateLength: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  omit: fc.subarray([...METRICS], { maxLength: 2 }).map((m) => new Set(m)),
}).map(({ truncateLength, omit }) => (truncateLength === undefined ? { omit } : { truncateLength, omit }));

const RUNS = { seed: 42, numRuns: 500 };

test('property: the NOT-free form agrees with the row evaluator', () => {
  fc.assert(fc.property(predicate, rowArb, (p, r) => {
    const normal = evaluateNormal(toNormalForm(p), (l) => leafHolds(l, r.get(l.ref.fieldId) ?? null));
    assert.equal(normal, evaluateRow(p, getter(r)));
  }), { ...RUNS, numRuns: 2000 });
});

test('property: a matching row keeps its partition in play', () => {
  fc.assert(fc.property(predicate, specArb, fc.array(rowArb, { minLength: 1, maxLength: 6 }), (p, spec, rows) => {
    for (const r of rows) {
      if (!evaluateRow(p, getter(r))) continue;
      const tuple = spec.fields.map((f) => applyTransform(f.transform, typeOf(f.sourceId), r.get(f.sourceId) ?? null));
      assert.equal(mightMatchPartition(p, spec, schema, tuple), true);
    }
  }), { ...RUNS, numRuns: 1500 });
});

test('property: a manifest summarising a matching row\'s partition might match', () => {
  let pruned = 0;
  fc.assert(fc.property(predicate, specArb, fc.array(rowArb, { minLength: 1, maxLength: 6 }), (p, spec, rows) => {
    const tuples = rows.map((r) => spec.fields.map((f) => applyTransform(f.transform, typeOf(f.sourceId), r.get(f.sourceId) ?? null)));
    const summaries = summarizePartitions(partitionType(spec, schema), tuples);
    const might = mightMatchManifest(p, spec, schema, summaries);
    if (rows.some((r) => evaluateRow(p, getter(r)))) assert.equal(might, true);
    if (!might) pruned++;
  }), { ...RUNS, numRuns: 1500 });
  assert.ok(pruned > 20, `only ${pruned} manifests pruned`);
});

test('property: a file holding a matching row might match; a file that must match has only matching rows', () => {
  let provedAll = 0;
  let ruledOut = 0;
  fc.assert(fc.property(predicate, fc.array(rowArb, { minLength: 0, maxLength: 6 }), statsArb, (p, rows, stats) => {
    const file = fileFromRows(rows, stats);
    const matching = rows.filter((r) => evaluateRow(p, getter(r))).length;
    const might = mightMatchFile(p, file, schema);
    if (matching > 0) assert.equal(might, true);
    const must = mustMatchFile(p, file, schema, { boundTruncateLength: stats.truncateLength ?? Infinity });
    if (must) assert.equal(matching, rows.length);
    if (must && rows.length > 0) provedAll++;
    if (!might && rows.length > 0) ruledOut++;
  }), { ...RUNS, numRuns: 1500 });
  // The properties would hold trivially for evaluators that always answer "unknown".
  assert.ok(provedAll > 20, `mustMatchFile proved only ${provedAll} files`);
  assert.ok(ruledOut > 20, `mightMatchFile ruled out only ${ruledOut} files`);
});

test('property: partition pruning is not vacuous', () => {
  let pruned = 0;
  fc.assert(fc.property(predicate, specArb, rowArb, (p, spec, r) => {
    const tuple = spec.fields.map((f) => applyTransform(f.transform, typeOf(f.sourceId), r.get(f.sourceId) ?? null));
    if (!mightMatchPartition(p, spec, schema, tuple)) pruned++;
  }), { ...RUNS, numRuns: 500 });
  assert.ok(pruned > 20, `only ${pruned} partitions pruned`);
});

test('property: truncate on int and long near their limits (where Java wraps) projects soundly', () => {
  const column = fc.constantFrom(1, 2);
  fc.assert(fc.property(column, fc.integer({ min: 1, max: 7 }), fc.constantFrom<ComparisonOp>('=', '!=', '<', '<=', '>', '>='), fc.nat(), fc.nat(), (id, width, op, a, b) => {
    const near = id === 1
      ? (k: number): PrimitiveValue => [INT_MIN + (k % 9), INT_MAX - (k % 9), (k % 9) - 4][k % 3]!
      : (k: number): PrimitiveValue => [LONG_MIN + BigInt(k % 9), LONG_MAX - BigInt(k % 9), BigInt((k % 9) - 4)][k % 3]!;
    const value = near(a);
    const literal = near(b);
    const p: BoundExpr = { kind: 'cmp', op, ref: refOf(id), value: literal };
    const spec: PartitionSpec = { specId: 0, fields: [{ sourceId: id, fieldId: 1000, name: 'p', transform: { kind: 'truncate', width } }] };
    if (evaluateRow(p, () => value)) {
      assert.equal(mightMatchPartition(p, spec, schema, [applyTransform(spec.fields[0]!.transform, typeOf(id), value)]), true);
    }
  }), { ...RUNS, numRuns: 3000 });
});

/** A value as --where literal text, written the way a user would. */
function literalText(id: number, v: PrimitiveValue): string {
  const type = typeOf(id);
  switch (type.kind) {
    case 'date': return `DATE '${partitionPathSegment({ kind: 'identity' }, type, v)}'`;
    case 'timestamp': return `TIMESTAMP '${partitionPathSegment({ kind: 'identity' }, type, v)}'`;
    case 'decimal': {
      const u = v as bigint;
      const digits = (u < 0n ? -u : u).toString().padStart(3, '0');
      return `${u < 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
    }
    case 'string': return `'${(v as string).replaceAll("'", "''")}'`;
    case 'binary': return `X'${Buffer.from(v as Uint8Array).toString('hex')}'`;
    case 'boolean': return v ? 'TRUE' : 'false';
    case 'double':
    case 'float':
      return Number.isFinite(v) ? (Object.is(v, -0) ? '-0.0' : String(v)) : `'${String(v)}'`;
    default: return String(v);
  }
}

function predicateText(e: BoundExpr): string {
  switch (e.kind) {
    case 'true': case 'false': return e.kind;
    case 'and': case 'or': return `(${predicateText(e.left)}) ${e.kind} (${predicateText(e.right)})`;
    case 'not': return `NOT (${predicateText(e.child)})`;
    case 'cmp': return `${e.ref.column} ${e.op} ${literalText(e.ref.fieldId, e.value)}`;
    case 'in': return `${e.ref.column} ${e.negated ? 'NOT IN' : 'IN'} (${e.values.map((v) => literalText(e.ref.fieldId, v)).join(', ')})`;
    case 'is-null': return `${e.ref.column} IS ${e.negated ? 'NOT ' : ''}NULL`;
  }
}

test('property: predicates written as text parse and bind to the same values', () => {
  fc.assert(fc.property(predicate, (p) => {
    assert.deepEqual(bindPredicate(parsePredicate(predicateText(p)), schema), p);
  }), RUNS);
});
