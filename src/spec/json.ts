// BigInt-exact JSON for metadata files. Snapshot ids are random 63-bit numbers: JSON.parse
// would silently round ids above 2^53, and every reader would then miss the snapshot.
// Both directions run on the native JSON engine (a metadata file with thousands of snapshots
// is parsed and written on every commit); only integers that do not fit a double exactly take
// a detour through a marker string. lossless-json is the fallback for the rare input that
// already contains the marker character.
import { isInteger, isSafeNumber, parse, stringify } from 'lossless-json';

const MARK = '\u0001n:';

function parseNumberSlow(text: string): number | bigint {
  if (isInteger(text) && !isSafeNumber(text)) return BigInt(text);
  return Number(text);
}

/** Quotes every integer literal of 16+ digits outside strings as "<MARK>digits". */
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
    if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
      const next = text.charCodeAt(j);
      const isFraction = next === 46 || next === 101 || next === 69;
      const digits = j - i - (c === 45 ? 1 : 0);
      if (!isFraction && digits >= 16 && !Number.isSafeInteger(Number(text.slice(i, j)))) {
        out += `${text.slice(last, i)}"\\u0001n:${text.slice(i, j)}"`;
        last = j;
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

/** Parses JSON; integers beyond ±2^53 become bigint, everything else stays a number. */
export function parseJsonExact(text: string): unknown {
  if (text.includes('\u0001') || text.includes('\\u0001')) return parse(text, null, parseNumberSlow);
  return reviveMarked(JSON.parse(quoteBigIntegers(text)));
}

/** Copies `value` with every bigint turned into a marker string; undefined if a string
 * already contains the marker character (then the slow path is used). */
function markBigInts(value: unknown): unknown {
  if (typeof value === 'bigint') return `${MARK}${value}`;
  if (typeof value === 'string') {
    if (value.includes('\u0001')) throw CLASH;
    return value;
  }
  if (Array.isArray(value)) return value.map(markBigInts);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0001')) throw CLASH;
      if (v !== undefined) out[k] = markBigInts(v);
    }
    return out;
  }
  return value;
}
const CLASH = new Error('marker clash');

/** Serialises JSON with bigint written as plain integer literals. A replacer function would
 * be called for every value (slow for a metadata file with thousands of snapshots), so
 * bigints are marked in one walk and the native serialiser does the rest. */
export function stringifyJsonExact(value: unknown, indent?: number): string {
  let marked: unknown;
  try {
    marked = markBigInts(value);
  } catch (err) {
    if (err !== CLASH) throw err;
    const slow = stringify(value, null, indent);
    if (slow === undefined) throw new Error('value is not serialisable to JSON');
    return slow;
  }
  const out = JSON.stringify(marked, null, indent);
  if (out === undefined) throw new Error('value is not serialisable to JSON');
  // JSON.stringify writes the marker's control character as the escape \u0001.
  return out.replace(/"\\u0001n:(-?\d+)"/g, '$1');
}
