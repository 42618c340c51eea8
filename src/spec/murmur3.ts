// Murmur3 x86 32-bit hash with seed 0: the hash behind Iceberg's bucket transform (spec Appendix B).
// Results are signed 32-bit ints, as Java's `HashCode.asInt()` returns them.
import { InternalError } from '../errors.ts';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function scrambleBlock(block: number): number {
  let k = Math.imul(block, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixIntoState(state: number, block: number): number {
  let h = state ^ scrambleBlock(block);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finalize(state: number, byteLength: number): number {
  let h = state ^ byteLength;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Hash of `length` bytes of `bytes` starting at `offset` (the spec's `hashBytes`). */
export function murmur3Hash32(bytes: Uint8Array, offset = 0, length = bytes.length - offset): number {
  if (offset < 0 || length < 0 || offset + length > bytes.length) {
    throw new InternalError(`murmur3Hash32: range ${offset}+${length} is outside ${bytes.length} bytes`);
  }
  let h = 0;
  const end = offset + length;
  const blocksEnd = offset + (length & ~3);
  let i = offset;
  // Blocks are read little-endian byte by byte: a DataView would allocate per call and
  // Uint32Array would need 4-byte alignment and a little-endian host.
  for (; i < blocksEnd; i += 4) {
    const block = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h = mixIntoState(h, block);
  }
  const tailLength = end - i;
  if (tailLength > 0) {
    let tail = bytes[i]!;
    if (tailLength > 1) tail |= bytes[i + 1]! << 8;
    if (tailLength > 2) tail |= bytes[i + 2]! << 16;
    h ^= scrambleBlock(tail);
  }
  return finalize(h, length);
}

/** Hash of a 32-bit int as 4 little-endian bytes (the spec's `hashInt`). */
export function murmur3HashInt32(value: number): number {
  return finalize(mixIntoState(0, value | 0), 4);
}

/**
 * Hash of a 64-bit long given as its two 32-bit halves, as 8 little-endian bytes (the spec's
 * `hashLong`). Taking halves lets int-typed callers skip BigInt entirely.
 */
export function murmur3HashInt64Parts(low: number, high: number): number {
  return finalize(mixIntoState(mixIntoState(0, low | 0), high | 0), 8);
}

/** Hash of a 64-bit long (wrapped to signed 64 bits) as 8 little-endian bytes. */
export function murmur3HashInt64(value: bigint): number {
  const asNumber = Number(value);
  // Splitting a safe integer with float math avoids BigInt ops, the slow part for timestamps.
  if (Number.isSafeInteger(asNumber)) {
    const high = Math.floor(asNumber / 0x1_0000_0000);
    return murmur3HashInt64Parts(asNumber - high * 0x1_0000_0000, high);
  }
  return murmur3HashInt64Parts(Number(BigInt.asIntN(32, value)), Number(BigInt.asIntN(32, value >> 32n)));
}
