// Lines of a byte stream with their byte positions: what lets a file source record "the next
// byte to read" and resume there. Memory holds one read chunk plus one partial line.
import type { FileHandle } from 'node:fs/promises';

export interface Line {
  /** The line without its terminator (`\n` or `\r\n`), decoded as UTF-8. */
  readonly text: string;
  /** Set when the line's bytes are not valid UTF-8: `text` then holds U+FFFD for the bad bytes
   * and must not be stored as if it were what the producer wrote. */
  readonly invalidUtf8?: true;
  /** Byte offset of the line's first byte in the file. */
  readonly start: bigint;
  /** Byte offset just after its terminator: where the next line starts. */
  readonly end: bigint;
  /** 1-based line number (counted from `firstLine`). */
  readonly line: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const CHUNK_BYTES = 1024 * 1024;

/**
 * Splits `chunks` into lines, the first starting at byte `start` with number `firstLine`. A
 * last line without a newline is a line too (ending at the end of the input).
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>, start = 0n, firstLine = 1): AsyncGenerator<Line> {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const lossy = new TextDecoder('utf-8');
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let offset = start;
  let line = firstLine;
  const emit = (parts: Uint8Array[], bytes: number, terminated: boolean): Line => {
    const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
    let len = terminated ? joined.length - 1 : joined.length;
    if (terminated && len > 0 && joined[len - 1] === CR) len--;
    const content = joined.subarray(0, len);
    let text: string;
    let invalidUtf8 = false;
    try { text = strict.decode(content); } catch { text = lossy.decode(content); invalidUtf8 = true; }
    const l: Line = { text, start: offset, end: offset + BigInt(joined.length), line: line++, ...(invalidUtf8 ? { invalidUtf8: true as const } : {}) };
    offset = l.end;
    return l;
  };
  for await (const chunk of chunks) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl < 0) break;
      const piece = chunk.subarray(from, nl + 1);
      if (pending.length > 0) {
        pending.push(piece);
        const l = emit(pending, pendingBytes + piece.length, true);
        pending = [];
        pendingBytes = 0;
        yield l;
      } else {
        yield emit([piece], piece.length, true);
      }
      from = nl + 1;
    }
    if (from < chunk.length) {
      // Copied: the stream may reuse its chunk buffer.
      const rest = Uint8Array.prototype.slice.call(chunk, from);
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (pendingBytes > 0) yield emit(pending, pendingBytes, false);
}

/** The bytes of an open file from `start` to its end, in chunks. */
export async function* fileChunks(handle: FileHandle, start: bigint): AsyncGenerator<Uint8Array> {
  let position = Number(start);
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await handle.read(buf, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/** The bytes of a stream (stdin), in chunks. */
export async function* streamChunks(stream: NodeJS.ReadableStream): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk as Uint8Array;
}
