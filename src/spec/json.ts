// BigInt-exact JSON for metadata files. Snapshot ids are random 63-bit numbers: JSON.parse
// would silently round ids above 2^53, and every reader would then miss the snapshot.
import { parse, stringify, isSafeNumber, isInteger } from 'lossless-json';

function parseNumber(text: string): number | bigint {
  if (isInteger(text) && !isSafeNumber(text)) return BigInt(text);
  return Number(text);
}

/** Parses JSON; integers beyond ±2^53 become bigint, everything else stays a number. */
export function parseJsonExact(text: string): unknown {
  return parse(text, null, parseNumber);
}

/** Serialises JSON with bigint written as plain integer literals. */
export function stringifyJsonExact(value: unknown, indent?: number): string {
  const out = stringify(value, null, indent);
  if (out === undefined) throw new Error('value is not serialisable to JSON');
  return out;
}
