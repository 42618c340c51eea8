// BigInt-exact JSON for metadata files. Snapshot ids are random 63-bit numbers: JSON.parse
// would silently round ids above 2^53, and every reader would then miss the snapshot.
// Both directions run on the native JSON engine (a metadata file with thousands of snapshots
// is parsed and written on every commit); only integers that do not fit a double exactly take
// a detour through a marker string. lossless-json is the fallback for the rare input that
// already contains the marker character.
import { isInteger, isSafeNumber, parse } from 'lossless-json';

const MARK = '\u0001n:';

function parseNumberSlow(text: string): number | bigint {
  if (isInteger(text) && !isSafeNumber(text)) return BigInt(text);
  return Number(text);
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Quotes every integer literal that does not fit a double exactly as "<MARK>digits", and
 * refuses a number literal whose value overflows a double (JSON.parse would return Infinity,
 * which no Iceberg column can hold as written). Each number token is skipped whole (sign,
 * digits, fraction, exponent): looking at its integer part alone once read the fraction of
 * `0.21432741417924794` as a second, 17-digit integer and broke the text.
 */
function quoteBigIntegers(text: string): string {
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
        const literal = j - i > 40 ? `${text.slice(i, i + 37)}...` : text.slice(i, j);
        throw new SyntaxError(`number ${literal} at position ${i} is beyond the range of a double`);
      }
      i = j - 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

function reviveMarked(value: unknown): unknown {
  if (typeof value === 'string') return value.startsWith(MARK) ? BigInt(value.slice(MARK.length)) : value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveMarked(value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = reviveMarked(o[k]);
  }
  return value;
}

/**
 * Parses JSON; integers beyond ±2^53 become bigint, everything else stays a number. A number
 * beyond the double range is refused (SyntaxError) rather than read as Infinity.
 */
export function parseJsonExact(text: string): unknown {
  if (text.includes('\u0001') || text.includes('\\u0001')) {
    quoteBigIntegers(text); // only for its range check
    return parse(text, null, parseNumberSlow);
  }
  const quoted = quoteBigIntegers(text);
  const value: unknown = JSON.parse(quoted);
  // No marker was written: nothing to revive (and no walk over a deeply nested value).
  return quoted === text ? value : reviveMarked(value);
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
  if (out === undefined) throw new Error('value is not serialisable to JSON');
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
        let out = '[' + open;
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += sep;
          out += writeJson(value[i], String(i), gap, inner) ?? 'null';
        }
        return out + close + ']';
      }
      const o = value as Record<string, unknown>;
      const colon = gap === '' ? ':' : ': ';
      let out = '';
      for (const k of Object.keys(o)) {
        const v = writeJson(o[k], k, gap, inner);
        if (v === undefined) continue;
        out += (out === '' ? '{' + open : sep) + JSON.stringify(k) + colon + v;
      }
      return out === '' ? '{}' : out + close + '}';
    }
    default: return undefined;
  }
}
