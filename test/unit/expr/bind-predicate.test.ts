// Binding --where predicates: columns to field ids (nested structs, case folding), refusals of
// list/map/struct and unknown columns (with close names), literals to the column's value form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../src/errors.ts';
import { bindPredicate, type BoundExpr } from '../../../src/expr/bind-predicate.ts';
import { parsePredicate } from '../../../src/expr/parse-predicate.ts';
import { Schema } from '../../../src/spec/schema.ts';
import type { PrimitiveValue } from '../../../src/spec/types.ts';

const schema = new Schema(0, [
  { id: 1, name: 'id', required: true, type: { kind: 'long' } },
  { id: 2, name: 'n', required: false, type: { kind: 'int' } },
  { id: 3, name: 'name', required: false, type: { kind: 'string' } },
  { id: 4, name: 'price', required: false, type: { kind: 'decimal', precision: 9, scale: 2 } },
  { id: 5, name: 'score', required: false, type: { kind: 'double' } },
  { id: 6, name: 'ratio', required: false, type: { kind: 'float' } },
  { id: 7, name: 'day', required: false, type: { kind: 'date' } },
  { id: 8, name: 'ts', required: false, type: { kind: 'timestamp' } },
  { id: 9, name: 'tstz', required: false, type: { kind: 'timestamptz' } },
  { id: 10, name: 'flag', required: false, type: { kind: 'boolean' } },
  { id: 11, name: 'uid', required: false, type: { kind: 'uuid' } },
  { id: 12, name: 'raw', required: false, type: { kind: 'binary' } },
  { id: 13, name: 'loc', required: true, type: { kind: 'struct', fields: [
    { id: 14, name: 'lat', required: true, type: { kind: 'double' } },
    { id: 15, name: 'inner', required: false, type: { kind: 'struct', fields: [
      { id: 16, name: 'code', required: true, type: { kind: 'string' } },
    ] } },
  ] } },
  { id: 17, name: 'tags', required: false, type: { kind: 'list', elementId: 18, elementRequired: true, element: { kind: 'string' } } },
  { id: 19, name: 'props', required: false, type: { kind: 'map', keyId: 20, key: { kind: 'string' }, valueId: 21, valueRequired: false, value: { kind: 'string' } } },
  { id: 22, name: 'at', required: false, type: { kind: 'time' } },
  { id: 23, name: 'Mixed', required: false, type: { kind: 'int' } },
]);

const bind = (text: string): BoundExpr => bindPredicate(parsePredicate(text), schema);

function boundValueOf(text: string): PrimitiveValue {
  const b = bind(text);
  assert.equal(b.kind, 'cmp');
  return b.kind === 'cmp' ? b.value : assert.fail();
}

function bindError(text: string): string {
  try {
    bind(text);
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    assert.ok(!err.message.includes('\n'));
    return err.message;
  }
  return assert.fail(`expected ${text} to be refused`);
}

test('columns resolve to field ids, types and never-null-ness, through structs', () => {
  const b = bind('loc.inner.code = \'x\' AND loc.lat > 1 AND id = 1');
  assert.equal(b.kind, 'and');
  const refs: unknown[] = [];
  const walk = (e: BoundExpr): void => {
    if (e.kind === 'and') { walk(e.left); walk(e.right); } else if (e.kind === 'cmp') refs.push(e.ref);
  };
  walk(b);
  assert.deepEqual(refs, [
    { fieldId: 16, column: 'loc.inner.code', type: { kind: 'string' }, neverNull: false },
    { fieldId: 14, column: 'loc.lat', type: { kind: 'double' }, neverNull: true },
    { fieldId: 1, column: 'id', type: { kind: 'long' }, neverNull: true },
  ]);
});

test('column names fall back to a case-insensitive match', () => {
  const b = bind('mixed = 1 AND ID = 2');
  assert.ok(b.kind === 'and' && b.left.kind === 'cmp' && b.left.ref.fieldId === 23);
  assert.ok(b.kind === 'and' && b.right.kind === 'cmp' && b.right.ref.fieldId === 1);
});

test('literals become the column type\'s in-memory values', () => {
  assert.equal(boundValueOf('id = 12'), 12n);
  assert.equal(boundValueOf('id = -9223372036854775808'), -(2n ** 63n));
  assert.equal(boundValueOf('id = 1.5e3'), 1500n);
  assert.equal(boundValueOf("id = '42'"), 42n);
  assert.equal(boundValueOf('n = 300'), 300);
  assert.equal(boundValueOf('price = 12.5'), 1250n);
  assert.equal(boundValueOf('price = -1e-2'), -1n);
  assert.equal(boundValueOf('score = 1.25'), 1.25);
  assert.equal(boundValueOf('score < 1e400'), Infinity);
  assert.equal(boundValueOf('ratio = 0.1'), 0.1, 'float literals are not rounded to 32 bits: 0.1 matches no float');
  assert.equal(boundValueOf("day = DATE '1970-01-02'"), 1);
  assert.equal(boundValueOf("day = '1969-12-31'"), -1);
  assert.equal(boundValueOf("ts = TIMESTAMP '1970-01-01 00:00:01'"), 1_000_000n);
  assert.equal(boundValueOf("ts >= DATE '1970-01-02'"), 86_400_000_000n);
  assert.equal(boundValueOf("ts >= TIMESTAMP '1970-01-02'"), 86_400_000_000n);
  assert.equal(boundValueOf("tstz >= '1970-01-02'"), 86_400_000_000n);
  assert.equal(boundValueOf("tstz = TIMESTAMP '1970-01-01T01:00:00+01:00'"), 0n);
  assert.equal(boundValueOf("at = TIME '00:00:01.5'"), 1_500_000n);
  assert.equal(boundValueOf('flag = false'), false);
  assert.equal(boundValueOf("name = 'it''s'"), "it's");
  assert.deepEqual(boundValueOf("raw = X'00ff'"), Uint8Array.of(0, 255));
  assert.deepEqual(boundValueOf("uid = 'f79c3e09-677c-4bbd-a479-3f349cb785e7'"),
    Uint8Array.from(Buffer.from('f79c3e09677c4bbda4793f349cb785e7', 'hex')));
  const inList = bind('n IN (1, 2, 3)');
  assert.ok(inList.kind === 'in');
  assert.deepEqual(inList.values, [1, 2, 3]);
});

test('unknown columns are refused with close names', () => {
  assert.equal(bindError('nmae = 1'), "--where: no column 'nmae' in the table; did you mean 'name'?");
  assert.match(bindError('loc.lon = 1'), /no column 'loc.lon' in the table; did you mean 'loc.lat', 'loc'/);
  assert.match(bindError('zzzzzzzzzz IS NULL'), /no column 'zzzzzzzzzz' in the table \(columns: id, n, name,/);
});

test('list, map and struct columns are refused naming the column', () => {
  assert.equal(bindError("tags = 'a'"), "--where: column 'tags' is a list; predicates can only use primitive columns outside lists and maps");
  assert.equal(bindError('props.key IS NULL'), "--where: column 'props' is a map; predicates can only use primitive columns outside lists and maps");
  assert.equal(bindError('loc IS NULL'), "--where: column 'loc' is a struct; compare one of its fields (e.g. loc.lat)");
  assert.equal(bindError('id.x = 1'), "--where: column 'id' is a long, so 'id.x' names nothing");
});

test('literals that do not fit the column are refused naming column and literal', () => {
  assert.match(bindError("id = 'abc'"), /^--where: column 'id' \(long\) cannot be compared with 'abc': expected long/);
  assert.match(bindError('n = 3000000000'), /^--where: column 'n' \(int\) cannot be compared with 3000000000: expected int/);
  assert.equal(bindError('id = 1.5'), "--where: column 'id' (long) cannot be compared with 1.5: a long column needs a whole number");
  assert.match(bindError('price = 1.234'), /column 'price' \(decimal\(9,2\)\) cannot be compared with 1.234: decimal 1.234 has more than 2 fraction digits/);
  assert.match(bindError('day = 3'), /column 'day' \(date\) cannot be compared with 3: write date values as text, e.g. DATE '2024-01-01'/);
  assert.match(bindError("day = TIMESTAMP '2024-01-01 00:00:00'"), /a TIMESTAMP literal does not fit a date column/);
  assert.match(bindError("ts = TIMESTAMP '2024-01-01T00:00:00+02:00'"), /column 'ts' \(timestamp\) cannot be compared with TIMESTAMP '2024-01-01T00:00:00\+02:00'/);
  assert.match(bindError("day = '2024-02-30'"), /no such day/);
  assert.match(bindError('name = 5'), /column 'name' \(string\) cannot be compared with 5: a string column needs a quoted literal/);
  assert.match(bindError('flag = 1'), /a boolean column needs TRUE or FALSE/);
  assert.match(bindError("score = 'NaN'"), /column 'score' \(double\) cannot be compared with 'NaN': NaN equals nothing/);
  assert.match(bindError("uid = X'00'"), /column 'uid' \(uuid\)/);
  assert.match(bindError('n IN (1, \'x\')'), /column 'n' \(int\) cannot be compared with 'x'/);
});
