// The storage interface every Iceberg file goes through. Knows nothing of Iceberg: it moves
// bytes by URI. LocalFileIO (file:), S3FileIO (s3://) and ResolvingFileIO (either, by scheme).

/** A listed file. */
export interface FileInfo {
  /** Its location (`file:` or `s3://`). */
  readonly uri: string;
  /** Its size in bytes. */
  readonly size: number;
  /** When it was last modified (epoch ms). */
  readonly modifiedMs: number;
}

/** A file being written piece by piece; nobody sees it until `close()` publishes it whole. */
export interface OutputFile {
  /** Appends bytes. */
  write(chunk: Uint8Array): Promise<void>;
  /** Publishes the file atomically (never replacing an existing one) and returns its size. */
  close(): Promise<number>;
  /** Drops what was written; nothing becomes visible. */
  abort(): Promise<void>;
}

/** What a Parquet reader needs of a file: its size and byte ranges read on demand. A Blob
 * satisfies it; S3 gives a view whose ranges are fetched by ranged GET. */
export interface RandomAccessBlob {
  /** The file's size in bytes. */
  readonly size: number;
  /** A view of bytes `start` to `end` (exclusive). */
  slice(start?: number, end?: number): RandomAccessBlob;
  /** Reads the view's bytes. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** How floe reads and writes files by URI (`catalog.io`): the local disk for `file:`, S3 for
 * `s3://`. It knows nothing of Iceberg. */
export interface FileIO {
  /** Reads a whole file. Throws NotFoundError if it does not exist. */
  read(uri: string): Promise<Uint8Array>;
  /**
   * Creates a file atomically: readers see all of it or nothing, and an existing file is
   * never replaced (AlreadyExistsError instead) — metadata files must never be overwritten.
   * The caller may reuse `bytes` once the returned promise settles (the SQL catalog builds
   * each metadata file in the buffer of an earlier one): keep a copy, never the array.
   */
  writeNew(uri: string, bytes: Uint8Array): Promise<void>;
  /** Like writeNew, streamed: memory stays bounded whatever the file's size. */
  createNew(uri: string): Promise<OutputFile>;
  /** A Blob over the file whose bytes are read on demand (Parquet readers seek the footer). */
  openBlob(uri: string): Promise<RandomAccessBlob>;
  /** Bytes `start` to `end` (exclusive) of a file in one buffer, where the store has a faster
   * way than a Blob slice (Node's file Blob reads 64 KiB pieces and joins them): the local
   * disk. Callers fall back to `openBlob(uri).slice(start, end)` without it. */
  readRange?(uri: string, start: number, end: number): Promise<Uint8Array>;
  /** Whether the file exists. */
  exists(uri: string): Promise<boolean>;
  /** Deletes a file; deleting a missing file is not an error. */
  delete(uri: string): Promise<void>;
  /** Every file under a prefix (recursively), for orphan cleanup and tests. Symbolic links
   * are not followed (a link inside a table folder never leads a cleanup elsewhere). */
  list(prefix: string): Promise<FileInfo[]>;
  /**
   * The place a location really names, where the store has aliases (symbolic links on a
   * local disk): two tables must not overlap through a link either. Stores without aliases
   * (object stores) leave it out and locations compare as written.
   */
  canonicalLocation?(uri: string): Promise<string>;
  /**
   * Removes the empty folders at and below `prefix`, deepest first, and returns how many went
   * (a purge's leftovers: data/, metadata/, partition folders, the table folder). A folder with
   * any file, or with a symbolic link, stays, as does one `spare` names. Object stores have no
   * folders and leave it out.
   */
  removeEmptyFolders?(prefix: string, spare?: (folder: string) => boolean | Promise<boolean>): Promise<number>;
  /** Deletes many files in few calls (S3 DeleteObjects); returns the URIs it could not delete. */
  deleteMany?(uris: readonly string[]): Promise<string[]>;
  /** Aborts multipart uploads under `prefix` started before `olderThanMs` (epoch ms) — what a
   * killed writer leaves behind on object stores; returns how many were aborted. */
  abortStaleUploads?(prefix: string, olderThanMs: number): Promise<number>;
  /** Releases connections (an S3 client's sockets), so a process can exit. */
  close?(): void;
}

/** Deletes files, keeping going past failures; returns the URIs it could not delete. */
export async function deleteAll(io: FileIO, uris: Iterable<string>): Promise<string[]> {
  if (io.deleteMany) return io.deleteMany([...uris]);
  const failed: string[] = [];
  for (const uri of uris) {
    try { await io.delete(uri); } catch { failed.push(uri); }
  }
  return failed;
}
