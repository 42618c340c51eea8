// The --where parser: precedence, literal forms, column forms, normalisation of `lit op col`,
// and one-line errors that name the position and the token found there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '../../../src/errors.ts';
import { formatPredicate, parsePredicate, type Expr, type LiteralToken } from '../../../src/expr/parse-predicate.ts';

/** A compact rendering of the tree, so expectations show the grouping. */
function shape(e: Expr): string {
  switch (e.kind) {
    case 'true': case 'false': return e.kind;
    case 'and': case 'or': return `${e.kind}(${shape(e.left)}, ${shape(e.right)})`;
    case 'not': return `not(${shape(e.child)})`;
    case 'cmp': return `${e.column}${e.op}${lit(e.literal)}`;
    case 'in': return `${e.column} ${e.negated ? 'notin' : 'in'} [${e.literals.map(lit).join(',')}]`;
    case 'is-null': return `${e.column} ${e.negated ? 'notnull' : 'null'}`;
  }
}
function lit(l: LiteralToken): string {
  switch (l.kind) {
    case 'string': return `s:${l.text}`;
    case 'number': return `n:${l.text}`;
    case 'boolean': return `b:${l.value}`;
    case 'typed': return `${l.type}:${l.text}`;
    case 'bytes': return `x:${l.hex}`;
  }
}
const p = (text: string): string => shape(parsePredicate(text));

test('precedence: NOT binds tighter than AND, AND tighter than OR', () => {
  assert.equal(p('a = 1 OR b = 2 AND c = 3'), 'or(a=n:1, and(b=n:2, c=n:3))');
  assert.equal(p('NOT a = 1 AND b = 2'), 'and(not(a=n:1), b=n:2)');
  assert.equal(p('a = 1 AND b = 2 OR NOT NOT c = 3'), 'or(and(a=n:1, b=n:2), not(not(c=n:3)))');
  assert.equal(p('(a = 1 OR b = 2) AND c = 3'), 'and(or(a=n:1, b=n:2), c=n:3)');
  assert.equal(p('a = 1 AND b = 2 AND c = 3'), 'and(and(a=n:1, b=n:2), c=n:3)');
  assert.equal(p('NOT (a = 1 OR b = 2)'), 'not(or(a=n:1, b=n:2))');
});

test('operators, and literal-op-column is turned around', () => {
  assert.equal(p('a <> 1'), 'a!=n:1');
  assert.equal(p('a != 1'), 'a!=n:1');
  assert.equal(p('a<=1'), 'a<=n:1');
  assert.equal(p('a>=-1'), 'a>=n:-1');
  assert.equal(p('5 < a'), 'a>n:5');
  assert.equal(p('5 <= a'), 'a>=n:5');
  assert.equal(p("'x' > a"), 'a<s:x');
  assert.equal(p('5 = a'), 'a=n:5');
  assert.equal(p('TRUE = flag'), 'flag=b:true');
});

test('keywords are case-insensitive; TRUE and FALSE alone are constant predicates', () => {
  assert.equal(p('a Is NoT nUlL and b is null'), 'and(a notnull, b null)');
  assert.equal(p('true'), 'true');
  assert.equal(p('FALSE or a = True'), 'or(false, a=b:true)');
  assert.equal(p('a not in (1, 2) OR b In (3)'), 'or(a notin [n:1,n:2], b in [n:3])');
});

test('literal forms', () => {
  assert.equal(p("s = 'it''s'"), "s=s:it's");
  assert.equal(p("s = ''"), 's=s:');
  assert.equal(p('x = 1.5e-3'), 'x=n:1.5e-3');
  assert.equal(p('x = -.5'), 'x=n:-.5');
  assert.equal(p('x = 12.'), 'x=n:12.');
  assert.equal(p('x = 1E+10'), 'x=n:1E+10');
  assert.equal(p("d = DATE '2024-01-01'"), 'd=date:2024-01-01');
  assert.equal(p("ts < timestamp '2024-01-01 10:00:00'"), 'ts<timestamp:2024-01-01 10:00:00');
  assert.equal(p("t > TIME '10:00:00'"), 't>time:10:00:00');
  assert.equal(p("b = X'00Ff'"), 'b=x:00ff');
  // A column may be called like a typed-literal keyword.
  assert.equal(p("date = DATE '2024-01-01'"), 'date=date:2024-01-01');
});

test('column forms: bare, dotted, double-quoted with "" escapes', () => {
  assert.equal(p('loc.lat > 1'), 'loc.lat>n:1');
  assert.equal(p("prénom_2 = 'a' AND Ωmega.δ IS NULL"), 'and(prénom_2=s:a, Ωmega.δ null)');
  const e = parsePredicate('"my col"."a""b" = 1');
  assert.equal(e.kind, 'cmp');
  if (e.kind === 'cmp') assert.deepEqual(e.path, ['my col', 'a"b']);
  const k = parsePredicate('"and" = 1 AND "select".x IS NULL');
  assert.equal(shape(k), 'and(and=n:1, select.x null)');
});

function parseError(text: string): string {
  try {
    parsePredicate(text);
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError for ${text}`);
    assert.ok(!err.message.includes('\n'));
    return err.message;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

test('errors name the position (1-based) and the token found', () => {
  assert.equal(parseError('x = 1 AND y = )'), "--where: expected a literal after '=' at position 15, found ')'");
  assert.equal(parseError('a = '), "--where: expected a literal after '=' at position 5, found end of input");
  assert.equal(parseError('a = 1 b'), "--where: expected AND, OR or the end of the predicate at position 7, found 'b'");
  assert.equal(parseError('(a = 1'), "--where: expected ')' at position 7 to close the '(' at position 1, found end of input");
  assert.equal(parseError("a = 'open"), '--where: unterminated string starting at position 5');
  assert.equal(parseError('a IN 1'), "--where: expected '(' after 'IN' at position 6, found '1'");
  assert.equal(parseError('a IN (1 2)'), "--where: expected ',' or ')' after '1' at position 9, found '2'");
  assert.equal(parseError('a IS 1'), "--where: expected NULL after 'IS' at position 6, found '1'");
  assert.equal(parseError('a ~ 1'), "--where: unexpected character '~' at position 3");
  assert.equal(parseError('a = b'), "--where: expected a literal after '=' at position 5, found column 'b' (comparing two columns is not supported)");
  assert.equal(parseError('a = NULL'), "--where: expected a literal after '=' at position 5, found NULL; write IS NULL or IS NOT NULL");
  assert.equal(parseError('a IN (1, null)'), "--where: expected a literal after ',' at position 10, found NULL; write IS NULL or IS NOT NULL");
  assert.equal(parseError('AND a = 1'), "--where: expected a column name, NOT or '(' at position 1, found 'AND'");
  assert.equal(parseError('a = 1 AND'), "--where: expected a column name, NOT or '(' after 'AND' at position 10, found end of input");
  assert.equal(parseError('a'), "--where: expected a comparison operator, IN, NOT IN or IS after 'a' at position 2, found end of input");
  assert.equal(parseError("b = X'abc'"), "--where: bytes literal at position 5 needs an even number of hex digits, found X'abc'");
  assert.equal(parseError('   '), '--where: the predicate is empty');
  assert.equal(parseError('a. = 1'), "--where: expected a field name after '.' at position 4, found '='");
  assert.equal(parseError('1x = 2'), "--where: malformed number at position 1, found '1x'");
});

test('the label prefixes errors', () => {
  assert.throws(() => parsePredicate('a =', '--on'), /^ValidationError: --on: expected a literal/);
});

// Random trees print to text that parses back to the same tree.
const name = fc.constantFrom('a', 'b_2', 'date', 'select', 'my col', 'q"uote', 'Ünï');
const literal: fc.Arbitrary<LiteralToken> = fc.oneof(
  fc.string({ maxLength: 6 }).map((text) => ({ kind: 'string' as const, text })),
  fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
    .map((n) => ({ kind: 'number' as const, text: String(n) })),
  fc.boolean().map((value) => ({ kind: 'boolean' as const, value })),
  fc.constantFrom('date', 'time', 'timestamp').map((type) => ({ kind: 'typed' as const, type, text: "2024-01-01'x" })),
  fc.uint8Array({ maxLength: 4 }).map((b) => ({ kind: 'bytes' as const, hex: Buffer.from(b).toString('hex') })),
);
const path = fc.array(name, { minLength: 1, maxLength: 3 });
const leaf: fc.Arbitrary<Expr> = fc.oneof(
  fc.tuple(path, fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const), literal)
    .map(([p, op, l]) => ({ kind: 'cmp' as const, op, column: p.join('.'), path: p, literal: l })),
  fc.tuple(path, fc.array(literal, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([p, literals, negated]) => ({ kind: 'in' as const, column: p.join('.'), path: p, literals, negated })),
  fc.tuple(path, fc.boolean()).map(([p, negated]) => ({ kind: 'is-null' as const, column: p.join('.'), path: p, negated })),
  fc.constantFrom({ kind: 'true' as const }, { kind: 'false' as const }),
);
const tree = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(fc.constantFrom('and', 'or' as const), tie('e'), tie('e')).map(([kind, left, right]) => ({ kind, left, right }) as Expr),
    tie('e').map((child) => ({ kind: 'not' as const, child })),
  ),
})).e;

test('property: formatPredicate output parses back to the same tree', () => {
  fc.assert(fc.property(tree, (e) => {
    assert.deepEqual(parsePredicate(formatPredicate(e)), e);
  }), { seed: 42, numRuns: 500 });
});
