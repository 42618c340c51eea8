// Rows `{id, payload}` with an incompressible payload (base64 of an AES-CTR key stream, the same
// for the same run), streamed as NDJSON blocks, and an order-independent checksum of what was
// produced that a reader can recompute from the table: count, sum of ids, sum of payload
// lengths, and the xor and the sum (mod 2^64) of each payload's MD5 first 8 bytes read
// little-endian — DuckDB's md5_number_upper(payload), Python's
// int.from_bytes(md5(p).digest()[:8], 'little'). The payload starts with `<id>:`, so the
// multiset of payloads also pins which id each row carries.
import { createCipheriv, createHash } from 'node:crypto';

export const RANDOM_ROWS_SCHEMA_JSON = {
  type: 'struct',
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'payload', required: true, type: 'string' },
  ],
} as const;

export interface RowChecksum {
  count: number;
  idSum: bigint;
  lengthSum: bigint;
  /** xor of md5_number_upper(payload), as a decimal string for JSON. */
  hashXor: bigint;
  /** sum of md5_number_upper(payload) mod 2^64. */
  hashSum: bigint;
}

const MASK64 = (1n << 64n) - 1n;

export function emptyChecksum(): RowChecksum {
  return { count: 0, idSum: 0n, lengthSum: 0n, hashXor: 0n, hashSum: 0n };
}

export function checksumJson(c: RowChecksum): Record<string, string> {
  return { count: String(c.count), idSum: String(c.idSum), lengthSum: String(c.lengthSum), hashXor: String(c.hashXor), hashSum: String(c.hashSum) };
}

/**
 * NDJSON lines for ids `from … from+count-1` in blocks of about `blockBytes`, payloads of
 * `randomBytes` random bytes (base64: 4/3 as many characters) after the `<id>:` prefix. `sum`
 * accumulates the checksum of every row yielded. `seed` picks the key stream.
 */
export function* randomPayloadNdjson(
  from: number, count: number, sum: RowChecksum,
  opts: { randomBytes?: number; blockBytes?: number; seed?: number } = {},
): Generator<Buffer> {
  const randomBytes = opts.randomBytes ?? 768;
  const blockBytes = opts.blockBytes ?? 1 << 20;
  const key = createHash('sha256').update(`floe-random-rows-${opts.seed ?? 0}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const rowsPerBlock = Math.max(1, Math.floor(blockBytes / (randomBytes * 4 / 3 + 32)));
  const zeros = Buffer.alloc(randomBytes * rowsPerBlock);
  for (let start = from; start < from + count; start += rowsPerBlock) {
    const n = Math.min(rowsPerBlock, from + count - start);
    const stream = cipher.update(n === rowsPerBlock ? zeros : zeros.subarray(0, randomBytes * n));
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = start + i;
      const payload = `${id}:${stream.toString('base64', i * randomBytes, (i + 1) * randomBytes)}`;
      const h = createHash('md5').update(payload).digest().readBigUInt64LE(0);
      sum.count++;
      sum.idSum += BigInt(id);
      sum.lengthSum += BigInt(payload.length);
      sum.hashXor ^= h;
      sum.hashSum = (sum.hashSum + h) & MASK64;
      lines.push(`{"id":${id},"payload":"${payload}"}\n`);
    }
    yield Buffer.from(lines.join(''));
  }
}
