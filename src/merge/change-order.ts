// The order value of a change (`--order-by`, Debezium's source.lsn / ts_ms): how it is read from
// an input value and how two of them compare, so "which change of a key is the latest" has one
// rule. Pure: no I/O.
//
// The rule:
//  - an integer (a JSON number that is an integer, a bigint, or a string of decimal digits such
//    as Oracle's scn "1234567") is a bigint: "10" orders after "9";
//  - a non-integral finite number stays a number (numbers and bigints compare by value);
//  - a string that looks like an ISO timestamp ("2024-05-01T10:00:00.123456+02:00", also with a
//    space instead of T) is parsed as a timestamptz (`primitiveParser({kind:'timestamptz'})`:
//    no zone means UTC) into epoch microseconds, so offsets and fraction lengths compare right;
//  - any other string stays a string, compared by Unicode code point (SQL Server's fixed-width
//    "00000027:00000758:0003" lsn orders correctly this way);
//  - anything else (boolean, object, NaN, ±Infinity) is not an order value.
// Values of different kinds never tie: every number/bigint orders before every string. Mixing
// them in one input (or epoch milliseconds with ISO timestamps, which become microseconds)
// is the input's mistake; the rule keeps the result deterministic, not meaningful.
import { compareCodePoints } from '../spec/single-value.ts';
import { describe, primitiveParser, ValueError } from '../writer/value-parsers.ts';

export type OrderValue = bigint | number | string;

const parseTimestamptz = primitiveParser({ kind: 'timestamptz' });
const INTEGER_TEXT = /^[+-]?\d+$/;
const TIMESTAMP_LIKE = /^[+-]?\d{4,6}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/** The order value of `v`, or a one-line reason why it cannot order changes. */
export function parseOrderValue(v: unknown): { value: OrderValue } | { problem: string } {
  switch (typeof v) {
    case 'bigint': return { value: v };
    case 'number':
      if (Number.isSafeInteger(v)) return { value: BigInt(v) };
      if (Number.isFinite(v)) return { value: Number.isInteger(v) ? BigInt(v) : v };
      return { problem: `${describe(v)} is not a finite number` };
    case 'string':
      if (INTEGER_TEXT.test(v)) return { value: BigInt(v) };
      if (TIMESTAMP_LIKE.test(v)) {
        try {
          return { value: parseTimestamptz(v) };
        } catch (err) {
          if (err instanceof ValueError) return { problem: `looks like a timestamp but is not one: ${err.message}` };
          throw err;
        }
      }
      return { value: v };
    default:
      return { problem: `expected a number, an integer or timestamp string, or a string, got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v} ${describe(v)}` };
  }
}

/** Total order of order values: null first, then numbers/bigints by value, then strings by
 * code point. */
export function compareOrderValues(a: OrderValue | null, b: OrderValue | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const aText = typeof a === 'string';
  const bText = typeof b === 'string';
  if (aText || bText) {
    if (aText && bText) return compareCodePoints(a, b);
    return aText ? 1 : -1;
  }
  // number and bigint compare exactly with < and > (no conversion, no rounding).
  return a < b ? -1 : a > b ? 1 : 0;
}
