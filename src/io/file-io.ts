// The storage interface every Iceberg file goes through. Knows nothing of Iceberg: it moves
// bytes by URI. Local files implement it now; S3 will implement it later.

export interface FileInfo { readonly uri: string; readonly size: number; readonly modifiedMs: number }

export interface FileIO {
  /** Reads a whole file. Throws NotFoundError if it does not exist. */
  read(uri: string): Promise<Uint8Array>;
  /**
   * Creates a file atomically: readers see all of it or nothing, and an existing file is
   * never replaced (AlreadyExistsError instead) — metadata files must never be overwritten.
   */
  writeNew(uri: string, bytes: Uint8Array): Promise<void>;
  exists(uri: string): Promise<boolean>;
  /** Deletes a file; deleting a missing file is not an error. */
  delete(uri: string): Promise<void>;
  /** Every file under a prefix (recursively), for orphan cleanup and tests. */
  list(prefix: string): Promise<FileInfo[]>;
}

/** Deletes files, keeping going past failures; returns the URIs it could not delete. */
export async function deleteAll(io: FileIO, uris: Iterable<string>): Promise<string[]> {
  const failed: string[] = [];
  for (const uri of uris) {
    try { await io.delete(uri); } catch { failed.push(uri); }
  }
  return failed;
}
