// Strict parsers from the JSON/JS forms records arrive in to floe's in-memory Iceberg values.
// Each returns the value or throws a short reason naming the value and the expected type; the
// converter and the validator add record and field. Both reach a type's parser through
// `primitiveParser`, so whatever one refuses the other refuses too (a record the validator
// passed but the converter refused used to fail its whole ingest batch, again on every rerun).
//
// Rules shared by every type: text is taken as written (no trimming: " 12 " is not a long and
// " 1.00" is not a decimal); numbers in temporal columns are epoch milliseconds (timestamps),
// days (date) or milliseconds of the day (time), as in Iceberg's Kafka Connect sink, exact
// at any size and refused when the result does not fit the type.
import { ValidationError } from '../errors.ts';
import type { PrimitiveType, PrimitiveValue } from '../spec/types.ts';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A value its column's type refuses; callers prefix the record and field. */
export class ValueError extends ValidationError {
  constructor(message: string) { super(message); this.name = 'ValueError'; }
}

/** The value for a message: at most ~60 characters, so a huge value still makes one line. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'bigint') { const t = v.toString(); return t.length > 60 ? `${t.slice(0, 30)}...(${t.length} digits)` : t; }
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (typeof v === 'object') {
    try {
      const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
      return s.length > 60 ? `${s.slice(0, 57)}...` : s;
    } catch { return String(v); }
  }
  return String(v);
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'bigint') return 'number';
  return typeof v;
}

export function fail(expected: string, v: unknown, why?: string): never {
  throw new ValueError(`expected ${expected}, got ${kindOf(v)} ${describe(v)}${why ? ` (${why})` : ''}`);
}

/** An integral JS number or bigint as an exact bigint; undefined for anything else. A JS
 * number beyond 2^53 is refused: it has already lost digits, so its value is not the input's. */
function exactInteger(v: unknown, expected: string): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return BigInt(v);
    if (Number.isInteger(v)) return fail(expected, v, 'beyond 2^53, so it may have been rounded; pass it as a string or bigint');
    return fail(expected, v, 'not an integer');
  }
  return undefined;
}

export function parseInt32(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX) return v;
  if (typeof v === 'bigint' && v >= BigInt(INT32_MIN) && v <= BigInt(INT32_MAX)) return Number(v);
  if (typeof v === 'string' && /^-?\d{1,10}$/.test(v)) {
    const n = Number(v);
    if (n >= INT32_MIN && n <= INT32_MAX) return n;
  }
  return fail('int (32-bit integer)', v);
}

export function parseInt64(v: unknown): bigint {
  // The common case first: a JS number that is an exact integer.
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  let b = exactInteger(v, 'long (integer)');
  if (b === undefined && typeof v === 'string' && /^-?\d{1,20}$/.test(v)) b = BigInt(v);
  if (b === undefined) return fail('long (integer, or a string of digits)', v);
  if (b < INT64_MIN || b > INT64_MAX) throw new ValueError(`long ${describe(b)} does not fit in 64 bits`);
  return b;
}

/** Doubles: any JS number, or the strings "NaN", "Infinity", "-Infinity" (JSON has no literal
 * for them; a JSON number that overflows a double is refused by the JSON reader). */
export function parseFloating(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return fail('number', v);
}

/** Floats: a double that rounds to a finite float. The limit is where rounding overflows, not
 * Float.MAX_VALUE itself: Java prints MAX_VALUE as 3.4028235e38, a double just above it that
 * rounds back to it. */
export function parseFloat32(v: unknown): number {
  const n = parseFloating(v);
  if (Number.isFinite(n) && !Number.isFinite(Math.fround(n))) return fail('float (32-bit)', v, 'out of float range');
  return n;
}

export function parseBoolean(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  return fail('boolean', v);
}

type WellFormedCheck = string & { isWellFormed(): boolean };

/** Strings must be well-formed UTF-16: a lone surrogate (e.g. from "\\ud800" in JSON) has no
 * UTF-8 form and would be stored as U+FFFD, a different string. */
export function parseString(v: unknown): string {
  if (typeof v === 'string') {
    if ((v as WellFormedCheck).isWellFormed()) return v;
    return fail('string', v, 'contains a lone surrogate, which has no UTF-8 form');
  }
  return fail('string', v);
}

/** Decimal as a string ("-12.30") or a number whose decimal text fits; returns the unscaled value. */
export function parseDecimal(v: unknown, precision: number, scale: number): bigint {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'number' && Number.isFinite(v)) text = String(v);
  else if (typeof v === 'bigint') text = v.toString();
  else return fail(`decimal(${precision},${scale}) as a string`, v);
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return fail(`decimal(${precision},${scale})`, v);
  const intPart = m[2] || '0';
  let frac = m[3] ?? '';
  if (frac.length > scale) {
    // Only trailing zeros may be dropped: anything else would round the value.
    if (/[^0]/.test(frac.slice(scale))) throw new ValueError(`decimal ${shorten(text)} has more than ${scale} fraction digits, so decimal(${precision},${scale}) would round it`);
    frac = frac.slice(0, scale);
  }
  frac = frac.padEnd(scale, '0');
  const digits = (intPart + frac).replace(/^0+(?=\d)/, '');
  if (digits.length > precision && digits !== '0') throw new ValueError(`decimal ${shorten(text)} does not fit decimal(${precision},${scale})`);
  const unscaled = BigInt(digits);
  return m[1] === '-' ? -unscaled : unscaled;
}

// Days from civil date (proleptic Gregorian), Howard Hinnant's algorithm.
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

const DATE_RE = /^([+-]?\d{4,6})-(\d{2})-(\d{2})$/;

/** Date: "YYYY-MM-DD", a JS Date, or an integer number of days since 1970-01-01. */
export function parseDate(v: unknown): number {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return fail('date', v);
    return Math.floor(v.getTime() / 86_400_000);
  }
  const days = exactInteger(v, 'date (days since 1970-01-01)');
  if (days !== undefined) {
    if (days < BigInt(INT32_MIN) || days > BigInt(INT32_MAX)) return fail('date (days since 1970-01-01)', v, 'does not fit the 32-bit day count');
    return Number(days);
  }
  if (typeof v !== 'string') return fail('date as "YYYY-MM-DD"', v);
  const m = DATE_RE.exec(v);
  if (!m) return fail('date as "YYYY-MM-DD"', v);
  const y = Number(m[1]); const mo = Number(m[2]); const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return fail('date as "YYYY-MM-DD"', v, 'invalid date: no such day');
  return daysFromCivil(y, mo, d);
}

/** Fraction digits → microseconds; refuses precision that would be lost. */
function fractionMicros(frac: string | undefined, v: string): bigint {
  if (!frac) return 0n;
  if (frac.length > 6 && /[^0]/.test(frac.slice(6))) throw new ValueError(`${describe(v)} has sub-microsecond precision, which Iceberg v2 cannot store`);
  return BigInt(frac.slice(0, 6).padEnd(6, '0'));
}

const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

const MILLIS_PER_DAY = 86_400_000n;

/** Time of day: "HH:MM:SS[.ffffff]", or an integer number of milliseconds since midnight. */
export function parseTime(v: unknown): bigint {
  const ms = exactInteger(v, 'time (milliseconds of the day)');
  if (ms !== undefined) {
    if (ms < 0n || ms >= MILLIS_PER_DAY) return fail('time (milliseconds of the day)', v, 'not within a day');
    return ms * 1000n;
  }
  if (typeof v !== 'string') return fail('time as "HH:MM:SS[.ffffff]"', v);
  const m = TIME_RE.exec(v);
  if (!m) return fail('time as "HH:MM:SS[.ffffff]"', v);
  const h = Number(m[1]); const mi = Number(m[2]); const s = Number(m[3] ?? 0);
  if (h > 23 || mi > 59 || s > 59) return fail('time as "HH:MM:SS[.ffffff]"', v, 'invalid time: no such time of day');
  return BigInt((h * 3600 + mi * 60 + s)) * 1_000_000n + fractionMicros(m[4], v);
}

const TIMESTAMP_RE = /^([+-]?\d{4,6})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Microseconds as Iceberg stores them, or a refusal naming the value. */
function fitTimestamp(micros: bigint, v: unknown, expected: string): bigint {
  if (micros < INT64_MIN || micros > INT64_MAX) return fail(expected, v, 'beyond the 64-bit microsecond range');
  return micros;
}

/**
 * Timestamp → µs since the epoch, from an ISO-8601 string, a JS Date, or an integer number of
 * milliseconds since the epoch (any size, exact; what Iceberg's Kafka Connect sink reads).
 * `withZone` (timestamptz): an offset (at most ±18:00) is applied and a missing one means UTC.
 * Without zone (timestamp): the wall-clock value is stored and an explicit offset is refused,
 * because silently shifting or dropping it changes the value.
 */
export function parseTimestamp(v: unknown, withZone: boolean): bigint {
  if (typeof v === 'string') {
    const fast = timestampMicrosFast(v, withZone);
    if (fast !== undefined) return BigInt(fast);
  }
  const expected = withZone ? 'timestamptz' : 'timestamp';
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) return fail(expected, v);
    return BigInt(ms) * 1000n;
  }
  const ms = exactInteger(v, `${expected} (milliseconds since the epoch)`);
  if (ms !== undefined) return fitTimestamp(ms * 1000n, v, `${expected} (milliseconds since the epoch)`);
  // "timestamp as ..." for both: the format (with or without a zone) tells the two apart.
  const iso = `timestamp as "YYYY-MM-DDTHH:MM:SS[.ffffff]${withZone ? '[Z|±HH:MM]' : ''}"`;
  if (typeof v !== 'string') return fail(iso, v);
  const m = TIMESTAMP_RE.exec(v);
  if (!m) return fail(iso, v);
  const y = Number(m[1]); const mo = Number(m[2]); const d = Number(m[3]);
  const h = Number(m[4]); const mi = Number(m[5]); const s = Number(m[6] ?? 0);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) {
    return fail(iso, v, 'invalid timestamp: no such date or time');
  }
  let offsetSeconds = 0;
  const zone = m[8];
  if (zone !== undefined) {
    if (!withZone) return fail(iso, v, 'a timestamp without time zone got a zoned value; use a timestamptz column or drop the offset');
    if (zone !== 'Z' && zone !== 'z') {
      const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
      const oh = Number(zm[2]); const om = Number(zm[3] ?? 0);
      // ±18:00 is the widest offset ISO-8601 / java.time accept; beyond it the text is not an instant.
      if (om > 59 || oh * 60 + om > 18 * 60) return fail(iso, v, 'offsets go up to ±18:00');
      offsetSeconds = (zm[1] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
    }
  }
  const seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offsetSeconds;
  return fitTimestamp(BigInt(seconds) * 1_000_000n + fractionMicros(m[7], v), v, iso);
}

const digit = (s: string, i: number): number => {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1000;
};

let lastYmd = -1;
let lastDays = 0;

/**
 * The hot path for the common shape `YYYY-MM-DDTHH:MM:SS[.f{1,6}][Z]` (what Date#toISOString
 * and most producers emit): fixed positions, Number arithmetic (exact below year 2255, so the
 * microseconds are a safe integer). Anything else returns undefined and takes the general
 * parser. The converter stores the number without making a BigInt.
 */
export function timestampMicrosFast(s: string, withZone: boolean): number | undefined {
  const n = s.length;
  if (n < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  const t = s.charCodeAt(10);
  if (t !== 84 && t !== 32) return undefined;
  const y = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const mo = digit(s, 5) * 10 + digit(s, 6);
  const d = digit(s, 8) * 10 + digit(s, 9);
  const h = digit(s, 11) * 10 + digit(s, 12);
  const mi = digit(s, 14) * 10 + digit(s, 15);
  const sec = digit(s, 17) * 10 + digit(s, 18);
  // A non-digit makes its component negative, so these ranges also prove every digit valid.
  if (y < 1 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return undefined;
  // Records of one batch mostly share a date: the last valid date's day number is kept
  // (ymd is one-to-one on the ranges just checked).
  const ymd = y * 10000 + mo * 100 + d;
  let days: number;
  if (ymd === lastYmd) days = lastDays;
  else {
    if (d > daysInMonth(y, mo)) return undefined;
    days = daysFromCivil(y, mo, d);
    lastYmd = ymd;
    lastDays = days;
  }
  let i = 19;
  let micros = 0;
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    let scale = 100_000;
    const start = i;
    while (i < n && i - start < 6) {
      const dg = digit(s, i);
      if (dg < 0) break;
      micros += dg * scale;
      scale /= 10;
      i++;
    }
    if (i === start || (i < n && digit(s, i) >= 0)) return undefined; // no digits, or more than 6
  }
  if (i < n) {
    const z = s.charCodeAt(i);
    if (!(z === 90 || z === 122) || i + 1 !== n) return undefined; // offsets take the general path
    if (!withZone) return undefined; // let the general parser explain the refusal
  }
  const seconds = days * 86400 + h * 3600 + mi * 60 + sec;
  return seconds * 1_000_000 + micros;
}

const UUID_RE = /^([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})$/;

export function parseUuid(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length !== 16) return fail('uuid (16 bytes)', v);
    return v;
  }
  if (typeof v !== 'string') return fail('uuid string', v);
  const m = UUID_RE.exec(v);
  if (!m) return fail('uuid like "f79c3e09-677c-4bbd-a479-3f349cb785e7"', v);
  return Uint8Array.from(Buffer.from(m.slice(1).join(''), 'hex'));
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export function parseBinary(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string' && v.length % 4 === 0 && BASE64_RE.test(v)) return new Uint8Array(Buffer.from(v, 'base64'));
  return fail('binary as a base64 string', v);
}

export function parseFixed(v: unknown, length: number): Uint8Array {
  const b = parseBinary(v);
  if (b.length !== length) return fail(`fixed[${length}] (exactly ${length} bytes, base64)`, v, `${b.length} bytes`);
  return b;
}

/** The parser of each primitive type's values, by kind (float: not yet rounded to 32 bits). */
export interface PrimitiveParsers {
  boolean: (v: unknown) => boolean;
  int: (v: unknown) => number;
  long: (v: unknown) => bigint;
  float: (v: unknown) => number;
  double: (v: unknown) => number;
  decimal: (v: unknown) => bigint;
  date: (v: unknown) => number;
  time: (v: unknown) => bigint;
  timestamp: (v: unknown) => bigint;
  timestamptz: (v: unknown) => bigint;
  string: (v: unknown) => string;
  uuid: (v: unknown) => Uint8Array;
  fixed: (v: unknown) => Uint8Array;
  binary: (v: unknown) => Uint8Array;
}

const parseTimestampNtz = (v: unknown): bigint => parseTimestamp(v, false);
const parseTimestampTz = (v: unknown): bigint => parseTimestamp(v, true);

/**
 * The one parser for values of `type`: the converter fills its columns with it and the
 * validator checks records with it, so the two cannot disagree.
 */
export function primitiveParser<K extends PrimitiveType['kind']>(type: PrimitiveType & { kind: K }): PrimitiveParsers[K];
export function primitiveParser(type: PrimitiveType): (v: unknown) => PrimitiveValue {
  switch (type.kind) {
    case 'boolean': return parseBoolean;
    case 'int': return parseInt32;
    case 'long': return parseInt64;
    case 'float': return parseFloat32;
    case 'double': return parseFloating;
    case 'decimal': { const { precision, scale } = type; return (v) => parseDecimal(v, precision, scale); }
    case 'date': return parseDate;
    case 'time': return parseTime;
    case 'timestamp': return parseTimestampNtz;
    case 'timestamptz': return parseTimestampTz;
    case 'string': return parseString;
    case 'uuid': return parseUuid;
    case 'fixed': { const { length } = type; return (v) => parseFixed(v, length); }
    case 'binary': return parseBinary;
  }
}

/** Parses one value of a primitive type as stored (used where a single value is needed, e.g.
 * partition keys): the column's parser, then float rounding. */
export function parsePrimitiveValue(type: PrimitiveType, v: unknown): PrimitiveValue {
  const x = primitiveParser(type)(v);
  return type.kind === 'float' ? Math.fround(x as number) : x;
}
