// BigInt-exact JSON for metadata files. Snapshot ids are random 63-bit numbers: JSON.parse
// would silently round ids above 2^53, and every reader would then miss the snapshot.
// Both directions run on the native JSON engine (a metadata file with thousands of snapshots
// is parsed and written on every commit); only integers that do not fit a double exactly take
// a detour through a marker string. lossless-json is the fallback for the rare input that
// already contains the marker character.
import { ValidationError } from '../errors.ts';
import { isInteger, isSafeNumber, parse } from 'lossless-json';

const MARK = '\u0001n:';

function parseNumberSlow(text: string): number | bigint {
  if (isInteger(text) && !isSafeNumber(text)) return BigInt(text);
  return Number(text);
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const OVERFLOW = '\u0001x:';
const LARGE_TEXT = 4096;
const LONG_DIGIT_RUN = /[0-9]{16}/;

function outOfRange(literal: string, at: number): SyntaxError {
  const shown = literal.length > 40 ? `${literal.slice(0, 37)}...` : literal;
  return new SyntaxError(`number ${shown} at position ${at} is beyond the range of a double`);
}

/**
 * Quotes every integer literal that does not fit a double exactly as "<MARK>digits", and
 * refuses a number literal whose value overflows a double (JSON.parse would return Infinity,
 * which no Iceberg column can hold as written). Each number token is skipped whole (sign,
 * digits, fraction, exponent): looking at its integer part alone once read the fraction of
 * `0.21432741417924794` as a second, 17-digit integer and broke the text.
 */
function quoteBigIntegers(text: string, overflows?: SyntaxError[]): string {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped char
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) { inString = true; continue; }
    if (c === 45 || isDigit(c)) {
      let j = i + 1;
      while (j < text.length && isDigit(text.charCodeAt(j))) j++;
      const intEnd = j;
      let isInteger = true;
      let hasExponent = false;
      if (text.charCodeAt(j) === 46) { // fraction
        isInteger = false;
        j++;
        while (j < text.length && isDigit(text.charCodeAt(j))) j++;
      }
      const e = text.charCodeAt(j);
      if (e === 101 || e === 69) { // exponent
        isInteger = false;
        hasExponent = true;
        j++;
        const sign = text.charCodeAt(j);
        if (sign === 43 || sign === 45) j++;
        while (j < text.length && isDigit(text.charCodeAt(j))) j++;
      }
      const intDigits = intEnd - i - (c === 45 ? 1 : 0);
      if (isInteger) {
        if (intDigits >= 16 && !Number.isSafeInteger(Number(text.slice(i, j)))) {
          out += `${text.slice(last, i)}"\\u0001n:${text.slice(i, j)}"`;
          last = j;
        }
      } else if ((hasExponent || intDigits > 308) && !Number.isFinite(Number(text.slice(i, j)))) {
        const literal = text.slice(i, j);
        // A well-formed literal is refused only if it is kept in the value (see reviveMarked):
        // a duplicate key that overwrites it leaves nothing out of range, and the native fast
        // path, which sees only the value, must decide the same way.
        if (!overflows || !JSON_NUMBER.test(literal)) throw outOfRange(literal, i);
        overflows.push(outOfRange(literal, i));
        out += `${text.slice(last, i)}"\\u0001x:${overflows.length - 1}"`;
        last = j;
      }
      i = j - 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

function reviveMarked(value: unknown, overflows: readonly SyntaxError[]): unknown {
  if (typeof value === 'string') {
    if (value.startsWith(MARK)) return BigInt(value.slice(MARK.length));
    if (value.startsWith(OVERFLOW)) throw overflows[Number(value.slice(OVERFLOW.length))]!;
    return value;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveMarked(value[i], overflows);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = reviveMarked(o[k], overflows);
  }
  return value;
}

/**
 * Parses JSON; integers beyond ±2^53 become bigint, everything else stays a number. A number
 * beyond the double range is refused (SyntaxError) rather than read as Infinity.
 *
 * Fast path: most texts (Kafka messages, NDJSON lines) hold no number a double cannot carry,
 * and scanning them character by character in JS cost 2–8× the native parse. So the text is
 * parsed natively first; when every number in the result is finite and within ±(2^53 − 1), no
 * integer literal can have been rounded (one beyond 2^53 parses to a double ≥ 2^53) and none
 * overflowed (that gives Infinity), so the exact path would return the same value. Anything
 * else (a large or non-finite number, a native syntax error, a marker character) takes the
 * exact path, which then decides, and words the error, exactly as before.
 */
export function parseJsonExact(text: string): unknown {
  // A long text with a 16-digit run (a metadata file's 63-bit snapshot ids) would fail the
  // check: it goes straight to the exact path instead of being parsed twice. Short texts (a
  // Kafka message) skip this scan, which costs about as much as their native parse.
  const likelyBig = text.length >= LARGE_TEXT && LONG_DIGIT_RUN.test(text);
  if (!likelyBig && !text.includes('\u0001') && !text.includes('\\u0001')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return parseJsonExactSlow(text);
    }
    if (!hasUnsafeNumber(value)) return value;
  }
  return parseJsonExactSlow(text);
}

/** The exact path: big integers quoted before the native parse, revived after. */
export function parseJsonExactSlow(text: string): unknown {
  if (text.includes('\u0001') || text.includes('\\u0001')) {
    quoteBigIntegers(text); // only for its range check
    return parse(text, null, parseNumberSlow);
  }
  const overflows: SyntaxError[] = [];
  const quoted = quoteBigIntegers(text, overflows);
  let value: unknown;
  try {
    value = JSON.parse(quoted);
  } catch (err) {
    // A broken text is refused for its first out-of-range number, if any (as before).
    throw overflows[0] ?? err;
  }
  // No marker was written: nothing to revive (and no walk over a deeply nested value).
  return quoted === text ? value : reviveMarked(value, overflows);
}

/** Whether a parsed value holds a number that is not finite or beyond ±(2^53 − 1). Iterative:
 * the native parser accepts nesting deeper than the call stack. */
function hasUnsafeNumber(root: unknown): boolean {
  if (typeof root === 'number') return !(Math.abs(root) <= Number.MAX_SAFE_INTEGER);
  if (root === null || typeof root !== 'object') return false;
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'number') { if (!(Math.abs(v) <= Number.MAX_SAFE_INTEGER)) return true; }
        else if (v !== null && typeof v === 'object') stack.push(v);
      }
    } else {
      const o = node as Record<string, unknown>;
      for (const k in o) {
        const v = o[k];
        if (typeof v === 'number') { if (!(Math.abs(v) <= Number.MAX_SAFE_INTEGER)) return true; }
        else if (v !== null && typeof v === 'object') stack.push(v);
      }
    }
  }
  return false;
}

/**
 * Serialises JSON with bigint written as plain integer literals, in one walk: no copy of the
 * value, no marker strings to replace afterwards (a metadata file with thousands of snapshots
 * is written on every commit). Strings are escaped by the native serialiser, so the text is
 * exactly what `JSON.stringify` writes for the same value with bigints as numbers: undefined,
 * functions and symbols are left out of objects and written as null in arrays, non-finite
 * numbers as null, `toJSON` is honoured.
 */
export function stringifyJsonExact(value: unknown, indent?: number): string {
  const gap = indent !== undefined && indent > 0 ? ' '.repeat(Math.min(10, Math.floor(indent))) : '';
  const out = writeJson(value, '', gap, '');
  if (out === undefined) throw new ValidationError('value is not serialisable to JSON');
  return out;
}

function writeJson(input: unknown, key: string, gap: string, indent: string): string | undefined {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(k: string): unknown }).toJSON(key);
  }
  if (value instanceof Number) value = Number(value);
  else if (value instanceof String) value = String(value);
  else if (value instanceof Boolean) value = value.valueOf();
  else if (value instanceof BigInt) value = value.valueOf();
  switch (typeof value) {
    case 'string': return JSON.stringify(value);
    case 'number': return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint': return value.toString();
    case 'boolean': return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      const inner = indent + gap;
      const open = gap === '' ? '' : `\n${inner}`;
      const sep = gap === '' ? ',' : `,\n${inner}`;
      const close = gap === '' ? '' : `\n${indent}`;
      if (Array.isArray(value)) {
        if (value.length === 0) return '[]';
        let out = `[${open}`;
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += sep;
          out += writeJson(value[i], String(i), gap, inner) ?? 'null';
        }
        return `${out + close}]`;
      }
      const o = value as Record<string, unknown>;
      const colon = gap === '' ? ':' : ': ';
      let out = '';
      for (const k of Object.keys(o)) {
        const v = writeJson(o[k], k, gap, inner);
        if (v === undefined) continue;
        out += (out === '' ? `{${open}` : sep) + JSON.stringify(k) + colon + v;
      }
      return out === '' ? '{}' : `${out + close}}`;
    }
    default: return undefined;
  }
}
