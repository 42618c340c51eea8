// Truncated column bounds for the `truncate(N)` metrics mode (`write.metadata.metrics.default`):
// a lower bound must stay ≤ every value and an upper bound ≥ every value after truncation.
// Strings count code points and compare as UTF-8 bytes, i.e. in code point order.
import { ValidationError } from '../errors.ts';

const MAX_CODE_POINT = 0x10ffff;
const MIN_SURROGATE = 0xd800;
const MAX_SURROGATE = 0xdfff;
// A lone surrogate cannot be written as UTF-8; encoders (TextEncoder, Arrow) write U+FFFD for it,
// so that is the value an upper bound has to exceed.
const REPLACEMENT_CHARACTER = 0xfffd;

function checkLength(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ValidationError(`Bound truncation length must be a positive integer, got ${n}`);
}

/** UTF-16 index where the first `n` code points of `s` end, or s.length if it has fewer. */
function endOfCodePoints(s: string, n: number): number {
  let end = 0;
  for (let count = 0; count < n && end < s.length; count++) {
    const c = s.charCodeAt(end);
    const isPair = c >= 0xd800 && c <= 0xdbff && end + 1 < s.length
      && (s.charCodeAt(end + 1) & 0xfc00) === 0xdc00;
    end += isPair ? 2 : 1;
  }
  return end;
}

/** The first `n` code points of `s`: a prefix is never greater than the string itself. */
export function truncateLowerString(s: string, n: number): string {
  checkLength(n);
  if (s.length <= n) return s;
  const end = endOfCodePoints(s, n);
  return end === s.length ? s : s.slice(0, end);
}

/**
 * The first `n` code points of `s` with the last one incremented, so the result is greater than
 * every string starting with that prefix. A code point at U+10FFFF cannot grow, so it is dropped
 * and the previous one incremented (as Java's UnicodeUtil.truncateStringMax does); U+D7FF steps
 * over the surrogate range to U+E000. Undefined when every kept code point is U+10FFFF: then no
 * bound of at most n code points exists and the caller must omit the upper bound.
 */
export function truncateUpperString(s: string, n: number): string | undefined {
  checkLength(n);
  if (s.length <= n) return s;
  const end = endOfCodePoints(s, n);
  if (end === s.length) return s;

  // Walk code points backwards from the cut; slicing keeps this linear for any n.
  let codePointEnd = end;
  while (codePointEnd > 0) {
    const low = s.charCodeAt(codePointEnd - 1);
    const isPair = (low & 0xfc00) === 0xdc00 && codePointEnd >= 2
      && (s.charCodeAt(codePointEnd - 2) & 0xfc00) === 0xd800;
    const start = codePointEnd - (isPair ? 2 : 1);
    let codePoint = s.codePointAt(start)!;
    if (codePoint >= MIN_SURROGATE && codePoint <= MAX_SURROGATE) codePoint = REPLACEMENT_CHARACTER;
    if (codePoint !== MAX_CODE_POINT) {
      const incremented = codePoint === MIN_SURROGATE - 1 ? MAX_SURROGATE + 1 : codePoint + 1;
      return s.slice(0, start) + String.fromCodePoint(incremented);
    }
    codePointEnd = start;
  }
  return undefined;
}

/** The first `n` bytes of `b` (a copy, so the bound does not pin a large page buffer). */
export function truncateLowerBinary(b: Uint8Array, n: number): Uint8Array {
  checkLength(n);
  return b.length <= n ? b : b.slice(0, n);
}

/**
 * The first `n` bytes of `b` with the last byte below 0xFF incremented and everything after it
 * dropped, so the result is greater than every value with that prefix in unsigned byte order.
 * Undefined when the first `n` bytes are all 0xFF.
 */
export function truncateUpperBinary(b: Uint8Array, n: number): Uint8Array | undefined {
  checkLength(n);
  if (b.length <= n) return b;
  for (let i = n - 1; i >= 0; i--) {
    const byte = b[i]!;
    if (byte !== 0xff) {
      const bound = b.slice(0, i + 1);
      bound[i] = byte + 1;
      return bound;
    }
  }
  return undefined;
}
