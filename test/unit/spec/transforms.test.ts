// Partition transforms against the Iceberg spec: Appendix B hash vectors, the truncate table,
// date/time ordinals on both sides of 1970, and Java's human strings for partition paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueTypeError } from '../../../src/errors.ts';
import {
  applyTransform, applyTransformBatch, bucketHash, canTransform, parseTransform,
  partitionPathSegment, transformResultType, transformToString,
} from '../../../src/spec/transforms.ts';
import type { Transform } from '../../../src/spec/transforms.ts';
import { decimal, fixed, primitive } from '../../../src/spec/types.ts';
import type { PrimitiveType, PrimitiveValue } from '../../../src/spec/types.ts';

const INT = primitive('int');
const LONG = primitive('long');
const DATE = primitive('date');
const TIME = primitive('time');
const TIMESTAMP = primitive('timestamp');
const TIMESTAMPTZ = primitive('timestamptz');
const STRING = primitive('string');
const UUID = primitive('uuid');
const BINARY = primitive('binary');
const BOOLEAN = primitive('boolean');
const FLOAT = primitive('float');
const DOUBLE = primitive('double');

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const micros = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;
const days = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

const SPEC_UUID = hex('f79c3e09677c4bbda4793f349cb785e7');
const TS_2017 = micros('2017-11-16T22:31:08Z'); // = 2017-11-16T14:31:08-08:00
const TIME_223108 = ((22n * 60n + 31n) * 60n + 8n) * 1_000_000n;

// Every row of the spec's Appendix B table, in the in-memory value form of types.ts.
const APPENDIX_B: [string, PrimitiveType, PrimitiveValue, number][] = [
  ['int 34', INT, 34, 2017239379],
  ['long 34L', LONG, 34n, 2017239379],
  ['decimal(4,2) 14.20', decimal(4, 2), 1420n, -500754589],
  ['date 2017-11-16', DATE, days('2017-11-16'), -653330422],
  ['time 22:31:08', TIME, TIME_223108, -662762989],
  ['timestamp 2017-11-16T22:31:08', TIMESTAMP, TS_2017, -2047944441],
  ['timestamp 2017-11-16T22:31:08.000001', TIMESTAMP, TS_2017 + 1n, -1207196810],
  ['timestamptz 2017-11-16T14:31:08-08:00', TIMESTAMPTZ, micros('2017-11-16T14:31:08-08:00'), -2047944441],
  ['timestamptz 2017-11-16T14:31:08.000001-08:00', TIMESTAMPTZ, micros('2017-11-16T14:31:08-08:00') + 1n, -1207196810],
  ['string iceberg', STRING, 'iceberg', 1210000089],
  ['uuid f79c3e09-677c-4bbd-a479-3f349cb785e7', UUID, SPEC_UUID, 1488055340],
  ['fixed(4) 00 01 02 03', fixed(4), hex('00010203'), -188683207],
  ['binary 00 01 02 03', BINARY, hex('00010203'), -188683207],
  // Second table: not bucketable, but the hash is defined.
  ['boolean true', BOOLEAN, true, 1392991556],
  ['float 1.0F', FLOAT, 1.0, -142385009],
  ['float 0.0F', FLOAT, 0.0, 1669671676],
  ['float -0.0F', FLOAT, -0.0, 1669671676],
  ['double 1.0D', DOUBLE, 1.0, -142385009],
  ['double 0.0D', DOUBLE, 0.0, 1669671676],
  ['double -0.0D', DOUBLE, -0.0, 1669671676],
];

test('bucketHash reproduces every Appendix B reference value', () => {
  for (const [name, type, value, expected] of APPENDIX_B) {
    assert.equal(bucketHash(type, value), expected, name);
  }
});

test('bucketHash: decimal hashes minimal two\'s complement bytes, independent of scale', () => {
  assert.equal(bucketHash(decimal(38, 10), 1420n), -500754589);
  // 0 → [0x00], -1 → [0xFF], 128 → [0x00, 0x80], -129 → [0xFF, 0x7F] (BigInteger.toByteArray).
  assert.equal(bucketHash(decimal(9, 2), 0n), bucketHash(BINARY, hex('00')));
  assert.equal(bucketHash(decimal(9, 2), -1n), bucketHash(BINARY, hex('ff')));
  assert.equal(bucketHash(decimal(9, 2), 128n), bucketHash(BINARY, hex('0080')));
  assert.equal(bucketHash(decimal(9, 2), -128n), bucketHash(BINARY, hex('80')));
  assert.equal(bucketHash(decimal(9, 2), -129n), bucketHash(BINARY, hex('ff7f')));
  const big = 12345678901234567890123456789012345678n;
  assert.equal(bucketHash(decimal(38, 0), big), bucketHash(BINARY, hex(big.toString(16).padStart(32, '0'))));
});

test('bucketHash: ints hash like the same long, negatives included', () => {
  for (const v of [0, 1, -1, 34, -2147483648, 2147483647]) {
    assert.equal(bucketHash(INT, v), bucketHash(LONG, BigInt(v)), String(v));
    assert.equal(bucketHash(DATE, v), bucketHash(LONG, BigInt(v)), String(v));
  }
});

test('bucketHash: strings hash as UTF-8, lone surrogates as "?" like Java', () => {
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  for (const s of ['', 'ä', '€uro', '😀 emoji', 'a\u{10FFFF}']) {
    assert.equal(bucketHash(STRING, s), bucketHash(BINARY, utf8(s)), s);
  }
  assert.equal(bucketHash(STRING, 'a\uD800b'), bucketHash(STRING, 'a?b'));
  assert.equal(bucketHash(STRING, 'x\uDC00'), bucketHash(STRING, 'x?'));
  // Long strings grow the scratch buffer.
  const long = 'ü'.repeat(5000);
  assert.equal(bucketHash(STRING, long), bucketHash(BINARY, utf8(long)));
});

test('bucketHash: NaN is canonicalised', () => {
  assert.equal(bucketHash(DOUBLE, NaN), bucketHash(LONG, 0x7ff8000000000000n));
});

test('bucket[N] drops the sign bit, then takes the remainder', () => {
  const bucket100: Transform = { kind: 'bucket', n: 100 };
  assert.equal(applyTransform(bucket100, INT, 34), 2017239379 % 100);
  assert.equal(applyTransform(bucket100, LONG, 34n), 79);
  assert.equal(applyTransform(bucket100, STRING, 'iceberg'), 89);
  assert.equal(applyTransform(bucket100, UUID, SPEC_UUID), 40);
  // Negative hashes: (-500754589 & 0x7fffffff) = 1646729059.
  assert.equal(applyTransform(bucket100, decimal(4, 2), 1420n), 59);
  assert.equal(applyTransform(bucket100, DATE, days('2017-11-16')), 26);
  assert.equal(applyTransform({ kind: 'bucket', n: 16 }, TIMESTAMP, TS_2017), (-2047944441 & 0x7fffffff) % 16);
  assert.equal(applyTransform({ kind: 'bucket', n: 1 }, STRING, 'anything'), 0);
  for (let v = -50; v < 50; v++) {
    const b = applyTransform({ kind: 'bucket', n: 7 }, INT, v) as number;
    assert.ok(Number.isInteger(b) && b >= 0 && b < 7);
  }
});

test('truncate: the spec table examples', () => {
  const w10: Transform = { kind: 'truncate', width: 10 };
  assert.equal(applyTransform(w10, INT, 1), 0);
  assert.equal(applyTransform(w10, INT, -1), -10);
  assert.equal(applyTransform(w10, LONG, 1n), 0n);
  assert.equal(applyTransform(w10, LONG, -1n), -10n);
  // W=50, s=2: 10.65 → 10.50 (W applies to the unscaled value).
  assert.equal(applyTransform({ kind: 'truncate', width: 50 }, decimal(9, 2), 1065n), 1050n);
  assert.equal(applyTransform({ kind: 'truncate', width: 3 }, STRING, 'iceberg'), 'ice');
  assert.deepEqual(applyTransform({ kind: 'truncate', width: 3 }, BINARY, hex('0102030405')), hex('010203'));
});

test('truncate: more ints, longs and decimals', () => {
  const w10: Transform = { kind: 'truncate', width: 10 };
  assert.equal(applyTransform(w10, INT, 0), 0);
  assert.equal(applyTransform(w10, INT, 5), 0);
  assert.equal(applyTransform(w10, INT, 10), 10);
  assert.equal(applyTransform(w10, INT, -10), -10);
  assert.equal(applyTransform(w10, INT, -11), -20);
  assert.equal(applyTransform(w10, LONG, -9223372036854775808n), BigInt.asIntN(64, -9223372036854775808n - 2n));
  assert.equal(applyTransform({ kind: 'truncate', width: 10 }, decimal(9, 2), -1n), -10n); // -0.01 → -0.10
  assert.equal(applyTransform({ kind: 'truncate', width: 1 }, INT, 123), 123);
  // Java's int arithmetic wraps here; matching it keeps partition values identical to Java's.
  assert.equal(applyTransform(w10, INT, -2147483648), 2147483646);
});

test('truncate: strings count code points, not UTF-16 units', () => {
  const t2: Transform = { kind: 'truncate', width: 2 };
  assert.equal(applyTransform(t2, STRING, '😀a😀b'), '😀a');
  assert.equal(applyTransform(t2, STRING, '😀😀😀'), '😀😀');
  assert.equal(applyTransform(t2, STRING, '😀😀'), '😀😀');
  assert.equal(applyTransform(t2, STRING, 'a'), 'a');
  assert.equal(applyTransform(t2, STRING, ''), '');
  assert.equal(applyTransform({ kind: 'truncate', width: 1 }, STRING, '\u{10FFFF}x'), '\u{10FFFF}');
  assert.equal(applyTransform({ kind: 'truncate', width: 3 }, STRING, 'äöüß'), 'äöü');
});

test('truncate: binary shorter than the width is returned whole; longer is copied', () => {
  const short = hex('0102');
  assert.equal(applyTransform({ kind: 'truncate', width: 4 }, BINARY, short), short);
  const source = hex('0102030405');
  const cut = applyTransform({ kind: 'truncate', width: 2 }, BINARY, source) as Uint8Array;
  assert.notEqual(cut.buffer, source.buffer);
});

test('year/month/day/hour after 1970', () => {
  const d = days('2017-11-16');
  assert.equal(d, 17486);
  assert.equal(applyTransform({ kind: 'year' }, DATE, d), 47);
  assert.equal(applyTransform({ kind: 'month' }, DATE, d), 47 * 12 + 10);
  assert.equal(applyTransform({ kind: 'day' }, DATE, d), 17486);
  for (const type of [TIMESTAMP, TIMESTAMPTZ]) {
    assert.equal(applyTransform({ kind: 'year' }, type, TS_2017), 47);
    assert.equal(applyTransform({ kind: 'month' }, type, TS_2017), 574);
    assert.equal(applyTransform({ kind: 'day' }, type, TS_2017), 17486);
    assert.equal(applyTransform({ kind: 'hour' }, type, TS_2017), 17486 * 24 + 22);
  }
  assert.equal(applyTransform({ kind: 'year' }, DATE, 0), 0);
  assert.equal(applyTransform({ kind: 'hour' }, TIMESTAMP, 0n), 0);
  assert.equal(applyTransform({ kind: 'month' }, DATE, days('2000-02-29')), 30 * 12 + 1);
});

test('year/month/day/hour before 1970 floor towards -infinity', () => {
  assert.equal(applyTransform({ kind: 'day' }, TIMESTAMP, -1n), -1);
  assert.equal(applyTransform({ kind: 'hour' }, TIMESTAMP, -1n), -1);
  assert.equal(applyTransform({ kind: 'month' }, TIMESTAMP, -1n), -1);
  assert.equal(applyTransform({ kind: 'year' }, TIMESTAMPTZ, -1n), -1);
  assert.equal(applyTransform({ kind: 'day' }, TIMESTAMP, -86_400_000_000n), -1);
  assert.equal(applyTransform({ kind: 'hour' }, TIMESTAMP, -86_400_000_000n), -24);
  assert.equal(applyTransform({ kind: 'day' }, TIMESTAMP, -86_400_000_001n), -2);
  assert.equal(applyTransform({ kind: 'hour' }, TIMESTAMP, -86_400_000_001n), -25);

  assert.equal(applyTransform({ kind: 'year' }, DATE, -1), -1); // 1969-12-31
  assert.equal(applyTransform({ kind: 'month' }, DATE, -1), -1);
  assert.equal(applyTransform({ kind: 'year' }, DATE, -365), -1); // 1969-01-01
  assert.equal(applyTransform({ kind: 'month' }, DATE, -365), -12);
  assert.equal(applyTransform({ kind: 'year' }, DATE, -366), -2); // 1968-12-31
  assert.equal(applyTransform({ kind: 'month' }, DATE, -366), -13);
  const firstOfEra = days('0001-01-01');
  assert.equal(applyTransform({ kind: 'year' }, DATE, firstOfEra), 1 - 1970);
  assert.equal(applyTransform({ kind: 'month' }, DATE, firstOfEra), (1 - 1970) * 12);
  assert.equal(applyTransform({ kind: 'year' }, TIMESTAMP, micros('1900-06-15T12:00:00Z')), -70);
  assert.equal(applyTransform({ kind: 'month' }, TIMESTAMP, micros('1900-06-15T12:00:00Z')), -70 * 12 + 5);
});

test('timestamps beyond 2^53 µs take the exact BigInt path', () => {
  const last = micros('9999-12-31T23:59:59.999Z') + 999n;
  const lastDay = days('9999-12-31');
  assert.equal(applyTransform({ kind: 'day' }, TIMESTAMP, last), lastDay);
  assert.equal(applyTransform({ kind: 'hour' }, TIMESTAMP, last), lastDay * 24 + 23);
  assert.equal(applyTransform({ kind: 'year' }, TIMESTAMP, last), 9999 - 1970);
  assert.equal(applyTransform({ kind: 'month' }, TIMESTAMP, last), (9999 - 1970) * 12 + 11);
  const first = micros('-000001-01-01T00:00:00Z');
  assert.equal(applyTransform({ kind: 'day' }, TIMESTAMP, first), days('-000001-01-01'));
  assert.equal(applyTransform({ kind: 'day' }, TIMESTAMP, first - 1n), days('-000001-01-01') - 1);
});

test('identity returns the value, void returns null, null stays null', () => {
  assert.equal(applyTransform({ kind: 'identity' }, STRING, 'x'), 'x');
  assert.equal(applyTransform({ kind: 'identity' }, BOOLEAN, true), true);
  assert.equal(applyTransform({ kind: 'void' }, STRING, 'x'), null);
  assert.equal(applyTransform({ kind: 'void' }, DOUBLE, 1.5), null);
  for (const t of ['identity', 'bucket[4]', 'truncate[3]', 'void'].map(parseTransform)) {
    assert.equal(applyTransform(t, STRING, null), null);
  }
  for (const t of ['year', 'month', 'day', 'hour'].map(parseTransform)) {
    assert.equal(applyTransform(t, TIMESTAMP, null), null);
  }
});

test('applyTransform rejects disallowed types and wrong value forms', () => {
  assert.throws(() => applyTransform({ kind: 'bucket', n: 4 }, DOUBLE, 1.5), /bucket\[4\].*double/);
  assert.throws(() => applyTransform({ kind: 'hour' }, DATE, 1), /hour.*date/);
  assert.throws(() => applyTransform({ kind: 'bucket', n: 4 }, LONG, 34), ValueTypeError);
  assert.throws(() => applyTransform({ kind: 'day' }, TIMESTAMP, 5), ValueTypeError);
  assert.throws(() => applyTransform({ kind: 'truncate', width: 2 }, STRING, hex('00')), ValueTypeError);
});

test('applyTransformBatch equals applyTransform value by value', () => {
  const values = [TS_2017, null, -1n, 0n, micros('1969-06-01T05:00:00Z')];
  for (const t of ['year', 'month', 'day', 'hour', 'bucket[16]', 'identity', 'void'].map(parseTransform)) {
    assert.deepEqual(applyTransformBatch(t, TIMESTAMP, values), values.map((v) => applyTransform(t, TIMESTAMP, v)));
  }
  assert.throws(() => applyTransformBatch({ kind: 'year' }, STRING, []), /year.*string/);
});

test('parseTransform / transformToString round trip', () => {
  for (const text of ['identity', 'void', 'year', 'month', 'day', 'hour', 'bucket[16]', 'bucket[1]', 'truncate[4]', 'truncate[2147483647]']) {
    assert.equal(transformToString(parseTransform(text)), text);
  }
  assert.deepEqual(parseTransform('bucket[16]'), { kind: 'bucket', n: 16 });
  assert.deepEqual(parseTransform('truncate[4]'), { kind: 'truncate', width: 4 });
  assert.deepEqual(parseTransform('Bucket[8]'), { kind: 'bucket', n: 8 });
  assert.deepEqual(parseTransform(' DAY '), { kind: 'day' });
});

test('parseTransform rejects anything else, naming the text', () => {
  for (const text of ['', 'bucket', 'bucket[]', 'bucket[0]', 'bucket[-1]', 'truncate[x]', 'truncate[2147483648]', 'years', 'zorder', 'bucket[16', 'day[1]']) {
    assert.throws(() => parseTransform(text), (err: Error) => err.message.includes(`'${text}'`), text);
  }
});

test('canTransform follows the spec table', () => {
  const all: PrimitiveType[] = [
    BOOLEAN, INT, LONG, FLOAT, DOUBLE, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, STRING, UUID, BINARY, decimal(9, 2), fixed(4),
  ];
  const allowed: Record<string, string[]> = {
    'identity': all.map((t) => t.kind),
    'void': all.map((t) => t.kind),
    'bucket[4]': ['int', 'long', 'decimal', 'date', 'time', 'timestamp', 'timestamptz', 'string', 'uuid', 'fixed', 'binary'],
    'truncate[4]': ['int', 'long', 'decimal', 'string', 'binary'],
    'year': ['date', 'timestamp', 'timestamptz'],
    'month': ['date', 'timestamp', 'timestamptz'],
    'day': ['date', 'timestamp', 'timestamptz'],
    'hour': ['timestamp', 'timestamptz'],
  };
  for (const [text, kinds] of Object.entries(allowed)) {
    for (const type of all) {
      assert.equal(canTransform(parseTransform(text), type), kinds.includes(type.kind), `${text} on ${type.kind}`);
    }
  }
});

test('transformResultType', () => {
  const dec = decimal(10, 2);
  assert.deepEqual(transformResultType({ kind: 'bucket', n: 4 }, STRING), INT);
  assert.deepEqual(transformResultType({ kind: 'year' }, TIMESTAMP), INT);
  assert.deepEqual(transformResultType({ kind: 'month' }, DATE), INT);
  assert.deepEqual(transformResultType({ kind: 'hour' }, TIMESTAMPTZ), INT);
  assert.deepEqual(transformResultType({ kind: 'day' }, TIMESTAMP), DATE);
  assert.deepEqual(transformResultType({ kind: 'identity' }, dec), dec);
  assert.deepEqual(transformResultType({ kind: 'truncate', width: 3 }, STRING), STRING);
  assert.deepEqual(transformResultType({ kind: 'void' }, UUID), UUID);
});

test('partitionPathSegment: date parts as Java prints them', () => {
  const seg = (text: string, source: PrimitiveType, v: PrimitiveValue | null): string => {
    const t = parseTransform(text);
    return partitionPathSegment(t, transformResultType(t, source), applyTransform(t, source, v));
  };
  assert.equal(seg('year', TIMESTAMP, TS_2017), '2017');
  assert.equal(seg('month', TIMESTAMP, TS_2017), '2017-11');
  assert.equal(seg('day', TIMESTAMP, TS_2017), '2017-11-16');
  assert.equal(seg('hour', TIMESTAMPTZ, TS_2017), '2017-11-16-22');
  assert.equal(seg('year', DATE, -1), '1969');
  assert.equal(seg('month', DATE, -1), '1969-12');
  assert.equal(seg('day', DATE, -1), '1969-12-31');
  assert.equal(seg('hour', TIMESTAMP, -1n), '1969-12-31-23');
  assert.equal(seg('month', DATE, days('1900-01-15')), '1900-01');
  assert.equal(seg('day', TIMESTAMP, null), 'null');
  assert.equal(partitionPathSegment({ kind: 'month' }, INT, 3), '1970-04');
  assert.equal(partitionPathSegment({ kind: 'bucket', n: 16 }, INT, 5), '5');
  assert.equal(partitionPathSegment({ kind: 'void' }, STRING, 'x'), 'null');
});

test('partitionPathSegment: identity and truncate values as Java prints them', () => {
  const id = (type: PrimitiveType, v: PrimitiveValue): string => partitionPathSegment({ kind: 'identity' }, type, v);
  assert.equal(id(STRING, 'a/b c'), 'a/b c');
  assert.equal(id(INT, -7), '-7');
  assert.equal(id(LONG, 9007199254740993n), '9007199254740993');
  assert.equal(id(BOOLEAN, false), 'false');
  assert.equal(id(DATE, 17486), '2017-11-16');
  assert.equal(id(TIME, TIME_223108), '22:31:08');
  assert.equal(id(TIME, TIME_223108 - 8_000_000n), '22:31');
  assert.equal(id(TIME, TIME_223108 + 1n), '22:31:08.000001');
  assert.equal(id(TIME, TIME_223108 + 500_000n), '22:31:08.500');
  assert.equal(id(TIMESTAMP, TS_2017), '2017-11-16T22:31:08');
  assert.equal(id(TIMESTAMP, TS_2017 - 8_000_000n), '2017-11-16T22:31:00');
  assert.equal(id(TIMESTAMP, TS_2017 + 1n), '2017-11-16T22:31:08.000001');
  assert.equal(id(TIMESTAMP, TS_2017 + 500_000n), '2017-11-16T22:31:08.5');
  assert.equal(id(TIMESTAMP, -1n), '1969-12-31T23:59:59.999999');
  assert.equal(id(TIMESTAMPTZ, TS_2017 + 38194n), '2017-11-16T22:31:08.038194+00:00');
  assert.equal(id(UUID, SPEC_UUID), 'f79c3e09-677c-4bbd-a479-3f349cb785e7');
  assert.equal(id(BINARY, hex('00010203')), 'AAECAw==');
  assert.equal(id(fixed(4), hex('00010203')), 'AAECAw==');
  assert.equal(id(decimal(4, 2), 1420n), '14.20');
  assert.equal(id(decimal(9, 3), -5n), '-0.005');
  assert.equal(id(decimal(9, 0), 123n), '123');
  assert.equal(id(decimal(20, 8), 12345n), '0.00012345');
  assert.equal(id(decimal(20, 7), 1n), '1E-7'); // BigDecimal.toString goes scientific here
  assert.equal(id(decimal(20, 10), 0n), '0E-10');
  assert.equal(id(decimal(20, 9), -12n), '-1.2E-8');
  assert.equal(id(DOUBLE, 1), '1.0');
  assert.equal(id(DOUBLE, 0.001), '0.001');
  assert.equal(id(DOUBLE, 1e-4), '1.0E-4');
  assert.equal(id(DOUBLE, 1.5e7), '1.5E7');
  assert.equal(id(DOUBLE, -0), '-0.0');
  assert.equal(id(DOUBLE, NaN), 'NaN');
  assert.equal(id(FLOAT, Math.fround(0.1)), '0.1');
  assert.equal(id(FLOAT, Math.fround(3.4028235e38)), '3.4028235E38');
  assert.equal(partitionPathSegment({ kind: 'truncate', width: 50 }, decimal(9, 2), 1050n), '10.50');
  assert.equal(partitionPathSegment({ kind: 'truncate', width: 3 }, STRING, 'ice'), 'ice');
});

test('hand-built transforms with invalid parameters are rejected', () => {
  assert.throws(() => applyTransform({ kind: 'bucket', n: 0 }, INT, 1), /bucket\[0\]/);
  assert.throws(() => applyTransform({ kind: 'truncate', width: 1.5 }, INT, 1), /truncate\[1.5\]/);
});
