// Partition transforms (spec "Partition Transforms", "Bucket/Truncate Transform Details",
// Appendix B hashing): parsing, type rules, application, and the human strings used in paths.
import { ValidationError, ValueTypeError } from '../errors.ts';
import { truncateLowerBinary, truncateLowerString } from './bound-truncation.ts';
import { murmur3Hash32, murmur3HashInt64, murmur3HashInt64Parts } from './murmur3.ts';
import { primitiveToString } from './types.ts';
import type { PrimitiveType, PrimitiveValue } from './types.ts';

/** A partition transform (spec "Partition Transforms"): how a source column's value becomes a
 * partition value — `identity`, `year`/`month`/`day`/`hour`, `bucket[n]`, `truncate[width]`, `void`. */
export type Transform =
  | { readonly kind: 'identity' } | { readonly kind: 'void' }
  | { readonly kind: 'year' } | { readonly kind: 'month' } | { readonly kind: 'day' } | { readonly kind: 'hour' }
  | { readonly kind: 'bucket'; readonly n: number } | { readonly kind: 'truncate'; readonly width: number };

const INT_MAX = 0x7fffffff;

// ---------------------------------------------------------------------------------------------
// Parsing and printing

const PARAMETERLESS: ReadonlySet<string> = new Set(['identity', 'void', 'year', 'month', 'day', 'hour']);

/**
 * Parses the spec's JSON form (`identity`, `bucket[16]`, `truncate[4]`, `day`, ...). Like Java's
 * `Transforms.fromString`, names are case-insensitive. Throws on unknown transforms, because
 * writers must not write with a spec that holds one (spec "Partitioning").
 */
export function parseTransform(text: string): Transform {
  const s = text.trim().toLowerCase();
  if (PARAMETERLESS.has(s)) return { kind: s } as Transform;
  const parameterised = /^(bucket|truncate)\[\s*(\d+)\s*\]$/.exec(s);
  if (parameterised) {
    const parameter = Number(parameterised[2]);
    if (parameter < 1 || parameter > INT_MAX) {
      throw new ValidationError(`Invalid transform '${text}': the parameter must be between 1 and ${INT_MAX}`);
    }
    return parameterised[1] === 'bucket'
      ? { kind: 'bucket', n: parameter }
      : { kind: 'truncate', width: parameter };
  }
  throw new ValidationError(`Unknown partition transform '${text}'`);
}

/** The spec's JSON form: `bucket[16]`, `truncate[4]`, `day`. */
export function transformToString(t: Transform): string {
  switch (t.kind) {
    case 'bucket': return `bucket[${t.n}]`;
    case 'truncate': return `truncate[${t.width}]`;
    default: return t.kind;
  }
}

// ---------------------------------------------------------------------------------------------
// Type rules

const BUCKET_SOURCES: ReadonlySet<string> = new Set([
  'int', 'long', 'decimal', 'date', 'time', 'timestamp', 'timestamptz', 'string', 'uuid', 'fixed', 'binary',
]);
const TRUNCATE_SOURCES: ReadonlySet<string> = new Set(['int', 'long', 'decimal', 'string', 'binary']);
const DATE_PART_SOURCES: ReadonlySet<string> = new Set(['date', 'timestamp', 'timestamptz']);
const HOUR_SOURCES: ReadonlySet<string> = new Set(['timestamp', 'timestamptz']);

/** Whether the spec allows `t` on a column of type `source` ("Partition Transforms" table). */
export function canTransform(t: Transform, source: PrimitiveType): boolean {
  switch (t.kind) {
    case 'identity':
    case 'void':
      return true;
    case 'bucket': return BUCKET_SOURCES.has(source.kind);
    case 'truncate': return TRUNCATE_SOURCES.has(source.kind);
    case 'year':
    case 'month':
    case 'day':
      return DATE_PART_SOURCES.has(source.kind);
    case 'hour': return HOUR_SOURCES.has(source.kind);
  }
}

const INT: PrimitiveType = { kind: 'int' };
const DATE: PrimitiveType = { kind: 'date' };

/**
 * Type of the partition value. `day` yields `date` (the spec's table says int, but Java's `Days`
 * reports DateType, so manifests written by Java carry a date field and we match them).
 */
export function transformResultType(t: Transform, source: PrimitiveType): PrimitiveType {
  switch (t.kind) {
    case 'bucket':
    case 'year':
    case 'month':
    case 'hour':
      return INT;
    case 'day': return DATE;
    case 'identity':
    case 'truncate':
    case 'void':
      return source;
  }
}

// ---------------------------------------------------------------------------------------------
// Value-form guards: a value of the wrong JS type means a bug upstream, so say which.

function expectNumber(source: PrimitiveType, value: PrimitiveValue): number {
  if (typeof value !== 'number') throw wrongForm(source, value, 'a number');
  return value;
}

function expectBigInt(source: PrimitiveType, value: PrimitiveValue): bigint {
  if (typeof value !== 'bigint') throw wrongForm(source, value, 'a bigint');
  return value;
}

function expectString(source: PrimitiveType, value: PrimitiveValue): string {
  if (typeof value !== 'string') throw wrongForm(source, value, 'a string');
  return value;
}

function expectBytes(source: PrimitiveType, value: PrimitiveValue): Uint8Array {
  if (!(value instanceof Uint8Array)) throw wrongForm(source, value, 'a Uint8Array');
  return value;
}

function wrongForm(source: PrimitiveType, value: PrimitiveValue, expected: string): ValueTypeError {
  const actual = value instanceof Uint8Array ? 'Uint8Array' : typeof value;
  return new ValueTypeError(`A ${primitiveToString(source)} value must be ${expected}, got ${actual}`);
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, UTC), exact for any int day count.

const MICROS_PER_HOUR = 3_600_000_000;
const MICROS_PER_DAY = 86_400_000_000;
const BIG_MICROS_PER_HOUR = 3_600_000_000n;
const BIG_MICROS_PER_DAY = 86_400_000_000n;

/**
 * floor(micros / divisor) for a µs timestamp. Numbers are exact up to 2^53 µs (±285 years around
 * 1970), which covers real data without BigInt division; beyond that fall back to BigInt.
 */
function floorDivMicros(micros: bigint, divisor: number, bigDivisor: bigint): number {
  const n = Number(micros);
  if (Number.isSafeInteger(n)) {
    let q = Math.floor(n / divisor);
    // The float division can round across an integer boundary; fix it with the exact remainder.
    const r = n - q * divisor;
    if (r < 0) q -= 1;
    else if (r >= divisor) q += 1;
    return q;
  }
  const q = micros / bigDivisor;
  return Number(micros % bigDivisor < 0n ? q - 1n : q);
}

/** Days since 1970-01-01 → [year, month 1-12, day 1-31] (Hinnant's civil_from_days). */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524)
    - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return [year, month, day];
}

// Year and month ordinals floor towards -infinity: 1969-12-31 is year -1 and month -1. This is
// what Java's DateTimeUtil.convertDays/convertMicros compute since Iceberg 1.x.
function yearsFromDays(days: number): number {
  return civilFromDays(days)[0] - 1970;
}

function monthsFromDays(days: number): number {
  const [year, month] = civilFromDays(days);
  return (year - 1970) * 12 + (month - 1);
}

function daysFromValue(source: PrimitiveType, value: PrimitiveValue): number {
  return source.kind === 'date'
    ? expectNumber(source, value)
    : floorDivMicros(expectBigInt(source, value), MICROS_PER_DAY, BIG_MICROS_PER_DAY);
}

// ---------------------------------------------------------------------------------------------
// Bucket hashing (Appendix B)

// Scratch space for UTF-8 and decimal bytes so hashing a value allocates nothing per call.
let scratch = new Uint8Array(256);

function ensureScratch(bytes: number): Uint8Array {
  if (scratch.length < bytes) scratch = new Uint8Array(Math.max(bytes, scratch.length * 2));
  return scratch;
}

/**
 * Encodes `s` as UTF-8 into the scratch buffer and returns the byte count. Lone surrogates become
 * `?` (0x3F), not U+FFFD: Java's `String.getBytes(UTF_8)`, which Guava falls back to for them,
 * does that, and bucket numbers must match Java's.
 */
function encodeUtf8Java(s: string): number {
  const buf = ensureScratch(s.length * 3);
  let at = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[at++] = c;
    } else if (c < 0x800) {
      buf[at++] = 0xc0 | (c >> 6);
      buf[at++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[at++] = 0xe0 | (c >> 12);
      buf[at++] = 0x80 | ((c >> 6) & 0x3f);
      buf[at++] = 0x80 | (c & 0x3f);
    } else {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const codePoint = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        buf[at++] = 0xf0 | (codePoint >> 18);
        buf[at++] = 0x80 | ((codePoint >> 12) & 0x3f);
        buf[at++] = 0x80 | ((codePoint >> 6) & 0x3f);
        buf[at++] = 0x80 | (codePoint & 0x3f);
        i++;
      } else {
        buf[at++] = 0x3f;
      }
    }
  }
  return at;
}

/**
 * Writes the minimal big-endian two's complement bytes of `unscaled` (Java's
 * `BigInteger.toByteArray()`, so 0 is one 0x00 byte) into scratch; returns the byte count.
 */
function encodeMinimalBigEndian(unscaled: bigint): number {
  // Two's complement needs the magnitude's bits plus a sign bit; ~v maps negatives onto that.
  const magnitude = unscaled < 0n ? ~unscaled : unscaled;
  const bits = magnitude === 0n ? 1 : magnitude.toString(2).length + 1;
  const length = Math.ceil(bits / 8);
  const buf = ensureScratch(length);
  let rest = unscaled;
  for (let i = length - 1; i >= 0; i--) {
    buf[i] = Number(BigInt.asUintN(8, rest));
    rest >>= 8n;
  }
  return length;
}

function hashIntAsLong(value: number): number {
  // Appendix B note 1: ints hash as longs, so promoting int → long keeps bucket numbers.
  return murmur3HashInt64Parts(value | 0, value < 0 ? -1 : 0);
}

const doubleBits = new DataView(new ArrayBuffer(8));

function hashDoubleBits(value: number): number {
  // Appendix B note 5: canonical NaN, and -0.0 hashes as 0.0.
  if (Number.isNaN(value)) return murmur3HashInt64Parts(0, 0x7ff80000);
  if (value === 0) return murmur3HashInt64Parts(0, 0);
  doubleBits.setFloat64(0, value, true);
  return murmur3HashInt64Parts(doubleBits.getInt32(0, true), doubleBits.getInt32(4, true));
}

/**
 * The spec's 32-bit hash of a value (before `& Integer.MAX_VALUE` and `% N`). Also hashes
 * boolean, float and double per Appendix B's second table, though bucket rejects those types.
 */
export function bucketHash(source: PrimitiveType, value: PrimitiveValue): number {
  switch (source.kind) {
    case 'int':
    case 'date':
      return hashIntAsLong(expectNumber(source, value));
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return murmur3HashInt64(expectBigInt(source, value));
    case 'decimal': {
      const length = encodeMinimalBigEndian(expectBigInt(source, value));
      return murmur3Hash32(scratch, 0, length);
    }
    case 'string': {
      const length = encodeUtf8Java(expectString(source, value));
      return murmur3Hash32(scratch, 0, length);
    }
    case 'uuid':
    case 'fixed':
    case 'binary':
      return murmur3Hash32(expectBytes(source, value));
    case 'boolean':
      // The spec writes hashInt(0/1), but its test vector (true → 1392991556) is Java's
      // BucketUtil.hash(int), which hashes as a long.
      if (typeof value !== 'boolean') throw wrongForm(source, value, 'a boolean');
      return hashIntAsLong(value ? 1 : 0);
    case 'float':
    case 'double':
      return hashDoubleBits(expectNumber(source, value));
  }
}

// ---------------------------------------------------------------------------------------------
// Truncation

// v - (((v % W) + W) % W) keeps the remainder positive (spec truncate note 1). Results wrap to
// the source width like Java's int/long arithmetic does, so partitions match Java even at the
// extreme values where the result leaves the type's range.
function truncateInt(value: number, width: number): number {
  return (value - (((value % width) + width) % width)) | 0;
}

function truncateBigInt(value: bigint, width: bigint): bigint {
  return value - (((value % width) + width) % width);
}

// ---------------------------------------------------------------------------------------------
// Application

function isPositiveInt(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= INT_MAX;
}

type ValueTransformer = (value: PrimitiveValue) => PrimitiveValue | null;

/**
 * Validates once and returns the function for `t` on `source`, so batch callers pay the type
 * checks and dispatch per column rather than per value.
 */
function transformerFor(t: Transform, source: PrimitiveType): ValueTransformer {
  if ((t.kind === 'bucket' && !isPositiveInt(t.n)) || (t.kind === 'truncate' && !isPositiveInt(t.width))) {
    throw new ValidationError(`Invalid transform '${transformToString(t)}': the parameter must be between 1 and ${INT_MAX}`);
  }
  if (!canTransform(t, source)) {
    throw new ValidationError(`Transform '${transformToString(t)}' cannot be applied to type ${primitiveToString(source)}`);
  }
  switch (t.kind) {
    case 'identity':
      return (value) => value;
    case 'void':
      return () => null;
    case 'bucket': {
      const n = t.n;
      return (value) => (bucketHash(source, value) & INT_MAX) % n;
    }
    case 'truncate':
      return truncaterFor(source, t.width);
    case 'year':
      return (value) => yearsFromDays(daysFromValue(source, value));
    case 'month':
      return (value) => monthsFromDays(daysFromValue(source, value));
    case 'day':
      return (value) => daysFromValue(source, value);
    case 'hour':
      // Beyond ±2^31 hours (years past ~246,000) the result leaves int; the writer refuses such
      // a value (src/writer/partition-value-check.ts) rather than wrapping it as Java does.
      return (value) => floorDivMicros(expectBigInt(source, value), MICROS_PER_HOUR, BIG_MICROS_PER_HOUR);
  }
}

function truncaterFor(source: PrimitiveType, width: number): ValueTransformer {
  switch (source.kind) {
    case 'int':
      return (value) => truncateInt(expectNumber(source, value), width);
    case 'long': {
      const bigWidth = BigInt(width);
      return (value) => BigInt.asIntN(64, truncateBigInt(expectBigInt(source, value), bigWidth));
    }
    case 'decimal': {
      // Note 2: W applies to the unscaled value, i.e. in units of the column's scale.
      const bigWidth = BigInt(width);
      return (value) => truncateBigInt(expectBigInt(source, value), bigWidth);
    }
    case 'string':
      // Spec truncate note 3: code points, never a split surrogate pair. The lower metrics bound
      // is exactly this prefix, so both share one implementation.
      return (value) => truncateLowerString(expectString(source, value), width);
    case 'binary':
      // Copies rather than views, so a partition key never pins a whole Arrow buffer.
      return (value) => truncateLowerBinary(expectBytes(source, value), width);
    default:
      throw new ValidationError(`truncate cannot be applied to type ${primitiveToString(source)}`);
  }
}

/** Applies `t` to one value of type `source`; null in, null out (spec: all transforms). */
export function applyTransform(
  t: Transform, source: PrimitiveType, value: PrimitiveValue | null,
): PrimitiveValue | null {
  const transformer = transformerFor(t, source);
  return value === null ? null : transformer(value);
}

/** Applies `t` to a column of values, checking the type once for the whole column. */
export function applyTransformBatch(
  t: Transform, source: PrimitiveType, values: readonly (PrimitiveValue | null)[],
): (PrimitiveValue | null)[] {
  const transformer = transformerFor(t, source);
  const out = new Array<PrimitiveValue | null>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    out[i] = value === null ? null : transformer(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Human strings (Java's Transform.toHumanString), used for partition directories in data paths

/** Java's `String.format("%0<width>d", n)`: the sign counts towards the width. */
function padJava(n: number, width: number): string {
  const digits = Math.abs(n).toString();
  if (n < 0) return `-${digits.padStart(width - 1, '0')}`;
  return digits.padStart(width, '0');
}

/** Year as java.time's ISO formatters print it: 4+ digits, '+' above 9999, '-' below 0. */
function isoYear(year: number): string {
  if (year > 9999) return `+${year}`;
  if (year < 0) return `-${String(-year).padStart(4, '0')}`;
  return String(year).padStart(4, '0');
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function humanYear(yearOrdinal: number): string {
  return padJava(1970 + yearOrdinal, 4);
}

function humanMonth(monthOrdinal: number): string {
  const year = 1970 + Math.floor(monthOrdinal / 12);
  const month = monthOrdinal - Math.floor(monthOrdinal / 12) * 12 + 1;
  return `${padJava(year, 4)}-${two(month)}`;
}

function humanDay(dayOrdinal: number): string {
  const [year, month, day] = civilFromDays(dayOrdinal);
  return `${padJava(year, 4)}-${two(month)}-${two(day)}`;
}

function humanHour(hourOrdinal: number): string {
  const days = Math.floor(hourOrdinal / 24);
  const [year, month, day] = civilFromDays(days);
  return `${padJava(year, 4)}-${two(month)}-${two(day)}-${two(hourOrdinal - days * 24)}`;
}

/** Splits µs since midnight into [hour, minute, second, micros]. */
function clockParts(microsOfDay: number): [number, number, number, number] {
  const seconds = Math.floor(microsOfDay / 1_000_000);
  return [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60, microsOfDay % 1_000_000];
}

/** Java's `LocalTime.toString()`: seconds only when non-zero, fraction in groups of 3 digits. */
function humanTime(micros: bigint): string {
  const [hour, minute, second, fraction] = clockParts(Number(micros));
  let text = `${two(hour)}:${two(minute)}`;
  if (second === 0 && fraction === 0) return text;
  text += `:${two(second)}`;
  if (fraction === 0) return text;
  const digits = String(fraction).padStart(6, '0');
  return text + (fraction % 1000 === 0 ? `.${digits.slice(0, 3)}` : `.${digits}`);
}

/** `DateTimeFormatter.ISO_LOCAL_DATE_TIME`: seconds always, fraction without trailing zeros. */
function humanTimestamp(micros: bigint): string {
  const days = floorDivMicros(micros, MICROS_PER_DAY, BIG_MICROS_PER_DAY);
  const microsOfDay = Number(micros - BigInt(days) * BIG_MICROS_PER_DAY);
  const [year, month, day] = civilFromDays(days);
  const [hour, minute, second, fraction] = clockParts(microsOfDay);
  const base = `${isoYear(year)}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:${two(second)}`;
  if (fraction === 0) return base;
  return `${base}.${String(fraction).padStart(6, '0').replace(/0+$/, '')}`;
}

/** Java's `BigDecimal.toString()`: plain unless the adjusted exponent is below -6. */
function humanDecimal(unscaled: bigint, scale: number): string {
  const sign = unscaled < 0n ? '-' : '';
  const coefficient = (unscaled < 0n ? -unscaled : unscaled).toString();
  const adjustedExponent = coefficient.length - 1 - scale;
  if (scale === 0) return sign + coefficient;
  if (adjustedExponent >= -6) {
    if (coefficient.length > scale) {
      const point = coefficient.length - scale;
      return `${sign}${coefficient.slice(0, point)}.${coefficient.slice(point)}`;
    }
    return `${sign}0.${'0'.repeat(scale - coefficient.length)}${coefficient}`;
  }
  const mantissa = coefficient.length > 1 ? `${coefficient[0]}.${coefficient.slice(1)}` : coefficient;
  return `${sign}${mantissa}E${adjustedExponent}`;
}

/** Java's `Double.toString` (shortest round-trip digits, JDK 19+). */
function humanDouble(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa = '', exponent = ''] = value.toExponential().split('e');
  const javaMantissa = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${javaMantissa}E${exponent.startsWith('+') ? exponent.slice(1) : exponent}`;
}

/** Java's `Float.toString`: the shortest decimal that rounds to the same float32. */
function humanFloat(value: number): string {
  if (!Number.isFinite(value) || value === 0) return humanDouble(value);
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return humanDouble(candidate);
  }
  return humanDouble(value);
}

function humanUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function humanValue(type: PrimitiveType, value: PrimitiveValue): string {
  switch (type.kind) {
    case 'boolean': return String(value);
    case 'int':
    case 'long':
      return String(value);
    case 'float': return humanFloat(expectNumber(type, value));
    case 'double': return humanDouble(expectNumber(type, value));
    case 'date': return humanDay(expectNumber(type, value));
    case 'time': return humanTime(expectBigInt(type, value));
    case 'timestamp': return humanTimestamp(expectBigInt(type, value));
    // Java formats with offset pattern +HH:MM:ss and "+00:00" for zero, never "Z".
    case 'timestamptz': return `${humanTimestamp(expectBigInt(type, value))}+00:00`;
    case 'string': return expectString(type, value);
    case 'uuid': return humanUuid(expectBytes(type, value));
    case 'fixed':
    case 'binary': {
      const bytes = expectBytes(type, value);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    }
    case 'decimal': return humanDecimal(expectBigInt(type, value), type.scale);
  }
}

/**
 * The string Java puts in a data file's partition directory (`Transform.toHumanString`), e.g.
 * year → `2024`, month → `2024-03`, day → `2024-03-05`, hour → `2024-03-05-07`, null → `null`.
 * Not URL-encoded: the path builder does that.
 */
export function partitionPathSegment(
  t: Transform, resultType: PrimitiveType, value: PrimitiveValue | null,
): string {
  if (value === null) return 'null';
  switch (t.kind) {
    case 'void': return 'null';
    case 'year': return humanYear(expectNumber(resultType, value));
    case 'month': return humanMonth(expectNumber(resultType, value));
    case 'day': return humanDay(expectNumber(resultType, value));
    case 'hour': return humanHour(expectNumber(resultType, value));
    case 'bucket': return String(expectNumber(resultType, value));
    case 'identity':
    case 'truncate':
      return humanValue(resultType, value);
  }
}
