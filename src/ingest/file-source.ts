// A file as an exactly-once source, for `floe ingest` (NDJSON) and `floe append`: every commit
// records the byte offset after the last line it covers, like a Kafka offset, plus what the
// file looked like up to there; a rerun resumes at that offset, and a finished file adds nothing.
//
// File identity. The source id is the file's canonical path as a URI (`file:///abs/path`,
// symlinks resolved), so the same file named two ways is one source. A path alone is not an
// identity (the file may be replaced), so each commit also records a fingerprint of the bytes
// already consumed: SHA-256 of the first min(64 KiB, offset) bytes and of the 64 KiB before
// the offset. A rerun resumes only if the file at that path still holds exactly those bytes:
// - a file that was appended to (log-style) matches, and resumes at the recorded offset;
// - a file that was replaced, truncated or rewritten does not, and the run is refused with a
//   message naming the snapshot that recorded the old file (move the new file to a new path to
//   read it as a new source; `floe append --allow-duplicate` appends it anyway).
// Device and inode are recorded for diagnosis only: a copy or a restore from backup keeps the
// bytes and changes the inode, and is rightly the same source.
//
// Summary keys:  floe.offsets.file:///abs/path       {"0":<next byte offset>}   (partition 0)
//                floe.source-file.file:///abs/path   {"head-bytes":…,"head-sha256":…,"tail-bytes":…,
//                                                     "tail-sha256":…,"next-line":…,"device":…,"inode":…}
// stdin has no identity and cannot be resumed: nothing is recorded for it.
import { createHash } from 'node:crypto';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { ValidationError } from '../errors.ts';
import { pathToUri } from '../io/local-file-io.ts';
import { ancestorsOf, type TableMetadata } from '../spec/table-metadata.ts';
import { SOURCE_FILE_KEY_PREFIX } from '../transaction/source-positions.ts';
import { decodeOffsets, offsetsSummaryKey, positionHeads } from './source-offsets.ts';

export { SOURCE_FILE_KEY_PREFIX };
/** A file source has one partition. */
export const FILE_PARTITION = 0;
const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 64 * 1024;

export interface FileFingerprint {
  readonly headBytes: number;
  readonly headSha256: string;
  readonly tailBytes: number;
  readonly tailSha256: string;
  /** Number of the line that starts at the offset (1-based). */
  readonly nextLine: number;
  readonly device: string;
  readonly inode: string;
}

/** A position recorded by a commit: where to resume and what the file held up to there. */
export interface RecordedFilePosition {
  readonly offset: bigint;
  readonly fingerprint: FileFingerprint | undefined;
  readonly snapshotId: bigint;
}

export class FileSource {
  private constructor(
    readonly path: string,
    readonly sourceId: string,
    readonly handle: FileHandle,
    readonly size: bigint,
    readonly device: string,
    readonly inode: string,
  ) {}

  /** Opens the file; reads and fingerprints go through this handle, so a file replaced while
   * it is read does not mix two files. */
  static async open(file: string): Promise<FileSource> {
    let canonical: string;
    let handle: FileHandle;
    try {
      canonical = await realpath(file);
      handle = await open(canonical, 'r');
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new ValidationError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err)}`);
    }
    const st = await handle.stat({ bigint: true });
    if (!st.isFile()) { await handle.close(); throw new ValidationError(`cannot read ${file}: not a regular file`); }
    return new FileSource(canonical, fileSourceId(canonical), handle, st.size, String(st.dev), String(st.ino));
  }

  /** Fingerprint of the bytes before `offset`, for a commit that ends there. */
  async fingerprintAt(offset: bigint, nextLine: number): Promise<FileFingerprint> {
    const end = Number(offset);
    const headBytes = Math.min(HEAD_BYTES, end);
    const tailBytes = Math.min(TAIL_BYTES, end);
    return {
      headBytes, headSha256: await this.sha256(0, headBytes),
      tailBytes, tailSha256: await this.sha256(end - tailBytes, tailBytes),
      nextLine, device: this.device, inode: this.inode,
    };
  }

  private async sha256(position: number, length: number): Promise<string> {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return createHash('sha256').update(buf.subarray(0, done)).digest('hex');
  }

  /**
   * Where a run must start, given the position a table recorded for this path. Throws a
   * ValidationError when the file is not the one that position belongs to.
   */
  async resumeFrom(recorded: RecordedFilePosition | undefined): Promise<{ offset: bigint; line: number; finished: boolean; sameInode: boolean }> {
    if (!recorded) return { offset: 0n, line: 1, finished: this.size === 0n, sameInode: true };
    const { offset, fingerprint: was } = recorded;
    const refuse = (why: string): never => {
      throw new FileReplacedError(`${this.path} is not the file recorded at this path in snapshot ${recorded.snapshotId} (${why}): it was replaced or rewritten, so resuming at byte ${offset} would skip or repeat lines`);
    };
    if (this.size < offset) refuse(`it has ${this.size} bytes, the recorded position is byte ${offset}`);
    if (!was) return { offset, line: 1, finished: this.size === offset, sameInode: true };
    const now = await this.fingerprintAt(offset, was.nextLine);
    if (now.headSha256 !== was.headSha256) refuse(`its first ${was.headBytes} bytes differ`);
    if (now.tailSha256 !== was.tailSha256) refuse(`the ${was.tailBytes} bytes before byte ${offset} differ`);
    return { offset, line: was.nextLine, finished: this.size === offset, sameInode: was.device === this.device && was.inode === this.inode };
  }

  close(): Promise<void> { return this.handle.close(); }
}

/** The run was refused because the file at a recorded path is not the recorded file. */
export class FileReplacedError extends ValidationError {
  constructor(message: string) { super(message); this.name = 'FileReplacedError'; }
}

export function fileSourceId(canonicalPath: string): string {
  return pathToUri(canonicalPath);
}

export function fingerprintSummary(sourceId: string, f: FileFingerprint): Record<string, string> {
  return {
    [`${SOURCE_FILE_KEY_PREFIX}${sourceId}`]: JSON.stringify({
      'head-bytes': f.headBytes, 'head-sha256': f.headSha256, 'tail-bytes': f.tailBytes, 'tail-sha256': f.tailSha256,
      'next-line': f.nextLine, device: f.device, inode: f.inode,
    }),
  };
}

function parseFingerprint(text: string | undefined): FileFingerprint | undefined {
  if (text === undefined) return undefined;
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const num = (k: string): number => { const v = j[k]; if (typeof v !== 'number') throw new ValidationError(`${k} is not a number`); return v; };
    const str = (k: string): string => { const v = j[k]; if (typeof v !== 'string') throw new ValidationError(`${k} is not a string`); return v; };
    return {
      headBytes: num('head-bytes'), headSha256: str('head-sha256'), tailBytes: num('tail-bytes'), tailSha256: str('tail-sha256'),
      nextLine: num('next-line'), device: str('device'), inode: str('inode'),
    };
  } catch {
    return undefined;
  }
}

/** The newest position the branch's history records for a file source, with its fingerprint
 * (with quarantined batches of the branch: the furthest of theirs and the branch's). */
export function recordedFilePosition(m: TableMetadata, branch: string, sourceId: string): RecordedFilePosition | undefined {
  const key = offsetsSummaryKey(sourceId);
  let best: RecordedFilePosition | undefined;
  for (const head of positionHeads(m, branch)) {
    for (const snap of ancestorsOf(m, head)) {
      const text = snap.summary[key];
      if (text === undefined) continue;
      const offset = decodeOffsets(text).get(FILE_PARTITION);
      if (offset === undefined) continue;
      if (!best || offset > best.offset) best = { offset, fingerprint: parseFingerprint(snap.summary[`${SOURCE_FILE_KEY_PREFIX}${sourceId}`]), snapshotId: snap.snapshotId };
      break;
    }
  }
  return best;
}

export interface ResumePoint {
  readonly start: bigint;
  readonly line: number;
  /** The table holds the file up to its end: nothing to read. */
  readonly finished: boolean;
  /** The position a commit recorded, when the read resumes after it. */
  readonly recorded?: RecordedFilePosition;
}

/**
 * Where a command reading `source` into a table resumes (`floe append`, `floe merge`): at the
 * start when the branch records nothing for the file (or `ignoreRecorded`), else after the
 * recorded position. A file whose recorded bytes changed is refused, `refusal` saying what the
 * command did not do and how to force it.
 */
export async function resumePoint(m: TableMetadata, branch: string, source: FileSource, ignoreRecorded: boolean, refusal: string): Promise<ResumePoint> {
  const recorded = recordedFilePosition(m, branch, source.sourceId);
  if (!recorded || ignoreRecorded) return { start: 0n, line: 1, finished: false };
  let r;
  try {
    r = await source.resumeFrom(recorded);
  } catch (err) {
    if (err instanceof FileReplacedError) throw new ValidationError(`${err.message}; ${refusal}`);
    throw err;
  }
  return { start: r.offset, line: r.line, finished: r.finished, recorded };
}
