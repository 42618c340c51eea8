// Evaluating bound predicates: rows under three-valued logic and IEEE NaN, files by their
// metrics (inclusive and strict), partitions through transforms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindPredicate, type BoundExpr } from '../../../src/expr/bind-predicate.ts';
import {
  evaluateRow, mightMatchFile, mightMatchManifest, mightMatchPartition, mustMatchFile, referencedFieldIds,
} from '../../../src/expr/evaluate.ts';
import { summarizePartitions } from '../../../src/format/manifest-writer.ts';
import { parsePredicate } from '../../../src/expr/parse-predicate.ts';
import { partitionType, type PartitionSpec } from '../../../src/spec/partition-spec.ts';
import { applyTransform, type Transform } from '../../../src/spec/transforms.ts';
import { Schema } from '../../../src/spec/schema.ts';
import type { PrimitiveValue } from '../../../src/spec/types.ts';
import { fileFromRows, getter, row, schema, typeOf, type Row } from './expr-fixtures.ts';

const bind = (text: string): BoundExpr => bindPredicate(parsePredicate(text), schema);
const matches = (text: string, r: Row): boolean => evaluateRow(bind(text), getter(r));

test('rows: a comparison with null is UNKNOWN, so neither it nor its NOT matches', () => {
  const r = row({ i: null, s: 'x' });
  assert.equal(matches('i = 1', r), false);
  assert.equal(matches('NOT (i = 1)', r), false);
  assert.equal(matches('i != 1', r), false);
  assert.equal(matches('i IN (1, 2)', r), false);
  assert.equal(matches('i NOT IN (1, 2)', r), false);
  assert.equal(matches('NOT (i IN (1, 2))', r), false);
  assert.equal(matches('i IS NULL', r), true);
  assert.equal(matches('i IS NOT NULL', r), false);
  assert.equal(matches('i = 1 OR s = \'x\'', r), true, 'UNKNOWN OR TRUE is TRUE');
  assert.equal(matches('NOT (i = 1 AND FALSE)', r), true, 'UNKNOWN AND FALSE is FALSE');
  assert.equal(matches('NOT (i = 1 OR FALSE)', r), false);
  assert.equal(matches('TRUE', r), true);
  assert.equal(matches('st.x = 1', row({})), false);
});

test('rows: NaN equals and orders nothing, != and NOT IN hold for it', () => {
  const r = row({ d: Number.NaN });
  for (const p of ['d = 1', 'd < 1', 'd <= 1', 'd > 1', 'd >= 1', 'd IN (1, 2)', 'd >= -1e400']) assert.equal(matches(p, r), false, p);
  for (const p of ['d != 1', 'd NOT IN (1)', 'NOT (d < 1)', 'NOT (d = 1)', 'NOT (d IN (1))', 'd IS NOT NULL']) assert.equal(matches(p, r), true, p);
});

test('rows: values compare in their type\'s order', () => {
  assert.equal(matches('d = 0', row({ d: -0 })), true, '-0.0 = 0.0 (IEEE)');
  assert.equal(matches('d < 0', row({ d: -0 })), false);
  assert.equal(matches("s > '\uFFFF'", row({ s: '\u{1F600}' })), true, 'code point order, not UTF-16 order');
  assert.equal(matches('dec > 1.5', row({ dec: 151n })), true);
  assert.equal(matches('l < 10', row({ l: -(2n ** 63n) })), true);
  assert.equal(matches("ts >= DATE '1970-01-02'", row({ ts: 86_400_000_000n })), true);
  assert.equal(matches("bin < X'0100'", row({ bin: Uint8Array.of(0, 255) })), true, 'unsigned byte order');
  assert.equal(matches('b = FALSE', row({ b: false })), true);
  assert.equal(matches('f = 0.1', row({ f: Math.fround(0.1) })), false, 'a float column holds no 0.1');
  assert.equal(matches('f > 0.1', row({ f: Math.fround(0.1) })), true);
});

test('referencedFieldIds lists each column once, ascending', () => {
  assert.deepEqual(referencedFieldIds(bind('s = \'a\' OR (i = 1 AND NOT s IS NULL) OR st.x IN (1)')), [1, 3, 11]);
  assert.deepEqual(referencedFieldIds(bind('TRUE')), []);
});

test('files: bounds, null counts and NaN counts prove that no row matches', () => {
  const file = fileFromRows([row({ i: 1, d: 1.5, s: 'bbb' }), row({ i: 5, d: Number.NaN, s: 'ddd' }), row({ i: null, d: null, s: null })]);
  const might = (p: string): boolean => mightMatchFile(bind(p), file, schema);
  assert.equal(might('i = 0'), false);
  assert.equal(might('i = 3'), true);
  assert.equal(might('i < 1'), false);
  assert.equal(might('i <= 1'), true);
  assert.equal(might('i > 5'), false);
  assert.equal(might('i >= 5'), true);
  assert.equal(might('i IN (0, 6)'), false);
  assert.equal(might('i IN (0, 5)'), true);
  assert.equal(might('i != 1'), true);
  assert.equal(might('NOT (i >= 0)'), false);
  assert.equal(might('d > 1.5'), false, 'the NaN row does not satisfy >');
  assert.equal(might('NOT (d <= 1.5)'), true, 'but it satisfies NOT <=');
  assert.equal(might("s > 'ddd'"), false);
  assert.equal(might('i IS NULL'), true);
  const noNulls = fileFromRows([row({ i: 1 }), row({ i: 2 })]);
  assert.equal(mightMatchFile(bind('i IS NULL'), noNulls, schema), false);
  assert.equal(mightMatchFile(bind('st.x IS NOT NULL'), noNulls, schema), false, 'only nulls');
  assert.equal(mightMatchFile(bind('d IS NULL'), noNulls, schema), true);
  assert.equal(mightMatchFile(bind('d = 1'), noNulls, schema), false, 'only nulls');
  const nans = fileFromRows([row({ d: Number.NaN }), row({ d: Number.NaN })]);
  assert.equal(mightMatchFile(bind('d < 10'), nans, schema), false, 'only NaN');
  assert.equal(mightMatchFile(bind('d != 10'), nans, schema), true);
  assert.equal(mightMatchFile(bind('TRUE'), fileFromRows([]), schema), false, 'an empty file matches nothing');
});

test('files: missing metrics and truncated bounds never rule a file out wrongly', () => {
  const rows = [row({ s: 'abcdef' }), row({ s: 'abzzzz' })];
  const truncated = fileFromRows(rows, { truncateLength: 2 });
  assert.equal(mightMatchFile(bind("s = 'abzzzz'"), truncated, schema), true);
  assert.equal(mightMatchFile(bind("s > 'abzzz'"), truncated, schema), true);
  assert.equal(mightMatchFile(bind("s < 'ab'"), truncated, schema), false);
  assert.equal(mightMatchFile(bind("s > 'ac'"), truncated, schema), false, "the truncated upper bound 'ac' is still above every value");
  const bare = fileFromRows(rows, { omit: new Set(['valueCounts', 'nullValueCounts', 'nanValueCounts', 'lowerBounds', 'upperBounds'] as const) });
  for (const p of ["s = 'q'", 's IS NULL', 'i = 1', 'd < 0']) assert.equal(mightMatchFile(bind(p), bare, schema), true, p);
  for (const p of ["s = 'q'", 's IS NOT NULL', 'l > 0', 'TRUE AND s IS NULL']) assert.equal(mustMatchFile(bind(p), bare, schema), false, p);
});

test('files (strict): every row matches only when metrics prove it', () => {
  const file = fileFromRows([row({ i: 1, l: 7n, d: 1.5, s: 'k' }), row({ i: 5, l: 7n, d: 2, s: 'k' })]);
  const must = (p: string): boolean => mustMatchFile(bind(p), file, schema);
  assert.equal(must('i < 6'), true);
  assert.equal(must('i < 5'), false);
  assert.equal(must('i >= 1 AND i <= 5'), true);
  assert.equal(must('i != 0'), true);
  assert.equal(must('i != 3'), false);
  assert.equal(must('i NOT IN (0, 6)'), true);
  assert.equal(must('i IS NOT NULL'), true);
  assert.equal(must('l = 7'), true);
  assert.equal(must('l IN (6, 7)'), true);
  assert.equal(must('i = 1'), false);
  assert.equal(must('NOT (i > 5)'), true);
  assert.equal(must("s = 'k'"), true);
  assert.equal(must('d > 1'), true);
  assert.equal(must('i = 1 OR i >= 2'), false, 'strict evaluation of OR is conservative');
  assert.equal(must('TRUE'), true);
  // A null could be anywhere: a nullable column needs a null count of 0.
  const noNullCounts = fileFromRows([row({ i: 1, l: 7n })], { omit: new Set(['nullValueCounts'] as const) });
  assert.equal(mustMatchFile(bind('i = 1'), noNullCounts, schema), false);
  assert.equal(mustMatchFile(bind('l = 7'), noNullCounts, schema), true, 'l is required');
  // A float column needs a NaN count of 0.
  const noNanCounts = fileFromRows([row({ d: 1 })], { omit: new Set(['nanValueCounts'] as const) });
  assert.equal(mustMatchFile(bind('d = 1'), noNanCounts, schema), false);
  assert.equal(mustMatchFile(bind('d != 2'), noNanCounts, schema), true, 'NaN != 2 holds');
  const nans = fileFromRows([row({ d: Number.NaN })]);
  assert.equal(mustMatchFile(bind('NOT (d < 0)'), nans, schema), true);
  assert.equal(mustMatchFile(bind('d >= 0'), nans, schema), false);
  assert.equal(mustMatchFile(bind('i IS NULL'), nans, schema), true);
});

test('files (strict): string and binary bounds that may be truncated do not prove equality', () => {
  const long = 'x'.repeat(16);
  const file = fileFromRows([row({ s: long, bin: new Uint8Array(16) })]);
  assert.equal(mustMatchFile(bind(`s = '${long}'`), file, schema), false);
  assert.equal(mustMatchFile(bind(`s = '${long}'`), file, schema, { boundTruncateLength: Infinity }), true);
  assert.equal(mustMatchFile(bind(`bin = X'${'00'.repeat(16)}'`), file, schema), false);
  const short = fileFromRows([row({ s: 'x'.repeat(15) })]);
  assert.equal(mustMatchFile(bind(`s = '${'x'.repeat(15)}'`), short, schema), true);
  // Order comparisons stay sound under truncation.
  assert.equal(mustMatchFile(bind("s < 'y'"), file, schema), true);
});

function spec(...fields: [string, Transform][]): PartitionSpec {
  return {
    specId: 0,
    fields: fields.map(([column, transform], i) => ({ sourceId: schema.findFieldByName(column)!.id, fieldId: 1000 + i, name: `p${i}`, transform })),
  };
}

function partitionOf(s: PartitionSpec, r: Row): (PrimitiveValue | null)[] {
  return s.fields.map((f) => applyTransform(f.transform, typeOf(f.sourceId), r.get(f.sourceId) ?? null));
}

test('partitions: identity is exact, bucket prunes = and IN only, void prunes nothing', () => {
  const ident = spec(['s', { kind: 'identity' }]);
  const bucket = spec(['i', { kind: 'bucket', n: 4 }]);
  const r = row({ s: 'a', i: 10 });
  const might = (p: string, s: PartitionSpec, rr: Row = r): boolean => mightMatchPartition(bind(p), s, schema, partitionOf(s, rr));
  assert.equal(might("s = 'a'", ident), true);
  assert.equal(might("s = 'b'", ident), false);
  assert.equal(might("s != 'a'", ident), false);
  assert.equal(might('s IS NULL', ident), false);
  assert.equal(might('s IS NULL', ident, row({})), true);
  assert.equal(might('i = 10', bucket), true);
  const other = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12].find((v) => applyTransform({ kind: 'bucket', n: 4 }, typeOf(1), v) !== applyTransform({ kind: 'bucket', n: 4 }, typeOf(1), 10))!;
  assert.equal(might(`i = ${other}`, bucket), false);
  assert.equal(might(`i IN (${other})`, bucket), false);
  assert.equal(might(`i < ${other}`, bucket), true);
  assert.equal(might('i != 10', bucket), true);
  assert.equal(might('i IS NULL', bucket), false);
  assert.equal(might("s = 'b'", spec(['s', { kind: 'void' }])), true);
  assert.equal(might('i = 1', ident), true, 'no partition field on i');
});

test('partitions: order comparisons project inclusively through truncate and time transforms', () => {
  const day = spec(['ts', { kind: 'day' }]);
  const noon = row({ ts: 43_200_000_000n }); // 1970-01-01T12:00
  const might = (p: string, s: PartitionSpec, r: Row): boolean => mightMatchPartition(bind(p), s, schema, partitionOf(s, r));
  assert.equal(might("ts < TIMESTAMP '1970-01-01T13:00:00'", day, noon), true, 'same day: < projects to <=');
  assert.equal(might("ts < TIMESTAMP '1970-01-01T00:00:00'", day, noon), false);
  assert.equal(might("ts >= TIMESTAMP '1970-01-02T00:00:00'", day, noon), false);
  assert.equal(might("ts > TIMESTAMP '1969-12-31T23:59:59'", day, row({ ts: -1n })), true);
  assert.equal(might("ts < TIMESTAMP '1970-01-01T00:00:00'", spec(['ts', { kind: 'hour' }]), row({ ts: -1n })), true, 'before 1970 floors');
  const month = spec(['dt', { kind: 'month' }]);
  assert.equal(might("dt > DATE '1970-01-31'", month, row({ dt: 5 })), false);
  assert.equal(might("dt >= DATE '1970-01-31'", month, row({ dt: 5 })), true);
  const trunc = spec(['s', { kind: 'truncate', width: 2 }]);
  assert.equal(might("s < 'abc'", trunc, row({ s: 'abb' })), true);
  assert.equal(might("s < 'abc'", trunc, row({ s: 'ac' })), false);
  assert.equal(might("s = 'abc'", trunc, row({ s: 'abz' })), true);
  assert.equal(might("s = 'abc'", trunc, row({ s: 'acz' })), false);
  const dec = spec(['dec', { kind: 'truncate', width: 100 }]);
  assert.equal(might('dec > 2', dec, row({ dec: 150n })), false);
  assert.equal(might('dec > 1.98', dec, row({ dec: 199n })), true);
  assert.equal(might('dec > 1.99', dec, row({ dec: 199n })), false, 'x > 1.99 is x >= 2.00');
});

test('partitions: truncate of an int near its minimum wraps (as Java does) and is still projected soundly', () => {
  const trunc = spec(['i', { kind: 'truncate', width: 3 }]);
  const r = row({ i: -2147483648 });
  const pv = partitionOf(trunc, r);
  assert.equal(pv[0], 2147483647, 'the partition value wrapped');
  assert.equal(mightMatchPartition(bind('i < 0'), trunc, schema, pv), true);
  assert.equal(mightMatchPartition(bind('i <= -2147483648'), trunc, schema, pv), true);
  assert.equal(mightMatchPartition(bind('i > -2147483648'), trunc, schema, partitionOf(trunc, row({ i: -2147483647 }))), true);
  assert.equal(mightMatchPartition(bind('i > 5'), trunc, schema, partitionOf(trunc, row({ i: 1 }))), false);
  // The literal's own truncation wraps: it bounds nothing.
  assert.equal(mightMatchPartition(bind('i > -2147483648'), trunc, schema, partitionOf(trunc, row({ i: 1 }))), true);
});

test('partitions: an old spec field on a dropped column does not break pruning on other columns', () => {
  const old: PartitionSpec = {
    specId: 1,
    fields: [
      { sourceId: 99, fieldId: 1000, name: 'gone', transform: { kind: 'identity' } },
      { sourceId: 3, fieldId: 1001, name: 's', transform: { kind: 'identity' } },
    ],
  };
  assert.equal(mightMatchPartition(bind("s = 'a'"), old, schema, [5, 'b']), false);
  assert.equal(mightMatchPartition(bind("s = 'b'"), old, schema, [5, 'b']), true);
});

test('files: uuid bounds are ignored, since Java writes them in signed order', () => {
  const uuidSchema = new Schema(0, [{ id: 1, name: 'u', required: true, type: { kind: 'uuid' } }]);
  const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
  // Java's signed order puts 80… (negative) first: lower 80…, upper 7f…, although 00… is inside.
  const file = {
    ...fileFromRows([]),
    recordCount: 2n,
    valueCounts: new Map([[1, 2n]]),
    nullValueCounts: new Map([[1, 0n]]),
    lowerBounds: new Map([[1, hex('80000000000000000000000000000000')]]),
    upperBounds: new Map([[1, hex('7fffffffffffffffffffffffffffffff')]]),
  };
  const p = bindPredicate(parsePredicate("u = '00000000-0000-0000-0000-000000000001'"), uuidSchema);
  assert.equal(mightMatchFile(p, file, uuidSchema), true);
  const q = bindPredicate(parsePredicate("u != '00000000-0000-0000-0000-000000000001'"), uuidSchema);
  assert.equal(mustMatchFile(q, file, uuidSchema), false);
});

test('manifests: partition summaries prune like Iceberg\'s ManifestEvaluator', () => {
  const byD = spec(['d', { kind: 'identity' }]);
  const byDay = spec(['ts', { kind: 'day' }]);
  const summary = (s: PartitionSpec, rows: Row[]) => summarizePartitions(partitionType(s, schema), rows.map((r) => partitionOf(s, r)));
  const might = (p: string, s: PartitionSpec, rows: Row[]): boolean => mightMatchManifest(bind(p), s, schema, summary(s, rows));
  const nanOnly = [row({ d: Number.NaN }), row({ d: null })];
  assert.equal(might('d = 1', byD, nanOnly), false, 'no bounds: every value null or NaN');
  assert.equal(might('d != 1', byD, nanOnly), true, 'NaN != 1');
  assert.equal(might('NOT (d < 1)', byD, nanOnly), true);
  assert.equal(might('d IS NULL', byD, nanOnly), true);
  const nullOnly = [row({ d: null })];
  assert.equal(might('d != 1', byD, nullOnly), false);
  assert.equal(might('d IS NOT NULL', byD, nullOnly), false);
  assert.equal(might('d IS NULL', byD, [row({ d: 2 })]), false);
  assert.equal(might('d > 1 AND d < 3', byD, [row({ d: 0 }), row({ d: 5 })]), true);
  assert.equal(might('d > 5', byD, [row({ d: 0 }), row({ d: 5 })]), false);
  const day2 = [row({ ts: 86_400_000_000n + 5n })];
  assert.equal(might("ts < TIMESTAMP '1970-01-02T00:00:00'", byDay, day2), false);
  assert.equal(might("ts <= TIMESTAMP '1970-01-02T00:00:00'", byDay, day2), true);
  assert.equal(mightMatchManifest(bind('d = 1'), byD, schema, null), true, 'v1 lists may omit summaries');
});
