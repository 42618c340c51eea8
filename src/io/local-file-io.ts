// FileIO on the local filesystem for `file:` URIs and absolute paths. Writes go to a temp
// file, are fsynced, then hard-linked into place: link(2) fails if the target exists, so a
// file is never half-visible and never overwritten (rename(2) would silently replace it).
import { randomUUID } from 'node:crypto';
import { openAsBlob, promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { AlreadyExistsError, FileIOError, NotFoundError } from '../errors.ts';
import type { FileInfo, FileIO, OutputFile } from './file-io.ts';

/**
 * The path of a `file:` URI, taken literally: Iceberg paths are location strings, not
 * percent-encoded URLs — pyiceberg, Java and DuckDB open `s=a%20b` as those very characters,
 * so decoding here would put the file where no reader looks.
 */
export function uriToPath(uri: string): string {
  if (uri.startsWith('file:')) {
    // Accept file:/abs (Java), file:///abs and file://localhost/abs.
    return path.resolve(`/${uri.replace(/^file:\/*(localhost\/)?/, '')}`);
  }
  if (uri.includes('://')) throw new FileIOError(`local file IO cannot open '${uri}' (only file: URIs and absolute paths)`);
  return path.resolve(uri);
}

/** Whether a location is on the local disk (a `file:` URI or an absolute path). */
export function isLocalLocation(uri: string): boolean {
  return uri.startsWith('file:') || uri.startsWith('/');
}

export function pathToUri(p: string): string {
  return `file://${path.resolve(p)}`;
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === code;
}

/** write(2) may write less than asked (a file-size limit, a full disk): go on until all is
 * written, so the real error (EFBIG, ENOSPC) surfaces instead of a file that silently lacks its
 * tail (a Parquet file without its footer). */
async function writeFully(handle: fs.FileHandle, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, off, bytes.length - off);
    if (bytesWritten <= 0) throw new FileIOError(`short write: ${off} of ${bytes.length} bytes written`);
    off += bytesWritten;
  }
}

export class LocalFileIO implements FileIO {
  async read(uri: string): Promise<Uint8Array> {
    const p = uriToPath(uri);
    try {
      return new Uint8Array(await fs.readFile(p));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`file not found: ${uri}`);
      throw new FileIOError(`cannot read ${uri}: ${(err as Error).message}`, { cause: err });
    }
  }

  async writeNew(uri: string, bytes: Uint8Array): Promise<void> {
    const target = uriToPath(uri);
    const dir = path.dirname(target);
    const temp = path.join(dir, `.${path.basename(target)}.${randomUUID()}.tmp`);
    // Each step is a round trip through libuv's thread pool, and a commit writes three files
    // (manifest, manifest list, metadata file), so the steps are few: the folder is made only
    // when the open finds it missing, the bytes go in as few write(2) calls as the kernel takes
    // (FileHandle.writeFile would split a 7 MB metadata file into 512 KiB writes), the temp
    // name is unlinked, not rm'd (rm stats first).
    let created = false;
    try {
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(temp, 'wx');
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
        await fs.mkdir(dir, { recursive: true });
        handle = await fs.open(temp, 'wx');
      }
      created = true;
      try {
        await writeFully(handle, bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.link(temp, target);
    } catch (err) {
      if (isErrno(err, 'EEXIST')) throw new AlreadyExistsError(`file already exists: ${uri}`);
      throw new FileIOError(`cannot write ${uri}: ${(err as Error).message}`, { cause: err, retryable: true });
    } finally {
      // Cleanup must not mask the error above.
      if (created) await fs.unlink(temp).catch(() => undefined);
    }
  }

  async createNew(uri: string): Promise<OutputFile> {
    const target = uriToPath(uri);
    const dir = path.dirname(target);
    const temp = path.join(dir, `.${path.basename(target)}.${randomUUID()}.tmp`);
    await fs.mkdir(dir, { recursive: true });
    if (await this.exists(uri)) throw new AlreadyExistsError(`file already exists: ${uri}`);
    const handle = await fs.open(temp, 'wx');
    let size = 0;
    const drop = async (): Promise<void> => {
      await handle.close().catch(() => undefined);
      await fs.rm(temp, { force: true });
    };
    return {
      write: async (chunk) => {
        try {
          await writeFully(handle, chunk);
          size += chunk.length;
        } catch (err) {
          await drop();
          throw new FileIOError(`cannot write ${uri}: ${(err as Error).message}`, { cause: err, retryable: true });
        }
      },
      close: async () => {
        try {
          await handle.sync();
          const onDisk = (await handle.stat()).size;
          if (onDisk !== size) throw new FileIOError(`${onDisk} of ${size} bytes reached the disk`);
          await handle.close();
          await fs.link(temp, target);
          return size;
        } catch (err) {
          if (isErrno(err, 'EEXIST')) throw new AlreadyExistsError(`file already exists: ${uri}`);
          throw new FileIOError(`cannot write ${uri}: ${(err as Error).message}`, { cause: err, retryable: true });
        } finally {
          await drop();
        }
      },
      abort: drop,
    };
  }

  async openBlob(uri: string): Promise<Blob> {
    try {
      return await openAsBlob(uriToPath(uri));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`file not found: ${uri}`);
      throw new FileIOError(`cannot open ${uri}: ${(err as Error).message}`, { cause: err });
    }
  }

  async readRange(uri: string, start: number, end: number): Promise<Uint8Array> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(uriToPath(uri), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`file not found: ${uri}`);
      throw new FileIOError(`cannot open ${uri}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const out = Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) throw new FileIOError(`cannot read ${uri}: bytes ${start}..${end} run past its end`);
        done += bytesRead;
      }
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    } catch (err) {
      if (err instanceof FileIOError) throw err;
      throw new FileIOError(`cannot read ${uri}: ${(err as Error).message}`, { cause: err, retryable: true });
    } finally {
      await handle.close();
    }
  }

  async exists(uri: string): Promise<boolean> {
    try {
      await fs.access(uriToPath(uri));
      return true;
    } catch {
      return false;
    }
  }

  async delete(uri: string): Promise<void> {
    await fs.rm(uriToPath(uri), { force: true });
  }

  /** The real path (symbolic links resolved) of the deepest existing ancestor, with the
   * part that does not exist yet appended, as a file: URI. */
  async canonicalLocation(uri: string): Promise<string> {
    let existing = uriToPath(uri);
    const rest: string[] = [];
    for (;;) {
      try {
        return pathToUri(path.join(await fs.realpath(existing), ...rest));
      } catch (err) {
        const parent = path.dirname(existing);
        if (!isErrno(err, 'ENOENT') || parent === existing) return pathToUri(path.join(existing, ...rest));
        rest.unshift(path.basename(existing));
        existing = parent;
      }
    }
  }

  async list(prefix: string): Promise<FileInfo[]> {
    const root = uriToPath(prefix);
    const out: FileInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        // Nothing under a missing folder, nor under a path that is a file.
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
        throw new FileIOError(`cannot list ${pathToUri(dir)}: ${(err as Error).message}`, { cause: err });
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) {
          // A file removed between readdir and stat (another process's temp file, a
          // concurrent delete) is simply no longer there.
          const st = await fs.stat(p).catch((err: unknown) => {
            if (isErrno(err, 'ENOENT')) return undefined;
            throw new FileIOError(`cannot list ${pathToUri(p)}: ${(err as Error).message}`, { cause: err });
          });
          if (st) out.push({ uri: pathToUri(p), size: st.size, modifiedMs: st.mtimeMs });
        }
      }
    };
    await walk(root);
    return out;
  }

  async removeEmptyFolders(prefix: string, spare: (folder: string) => boolean | Promise<boolean> = () => false): Promise<number> {
    let removed = 0;
    // True when `dir` is gone (removed here, or by someone else meanwhile).
    const prune = async (dir: string): Promise<boolean> => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return true;
        if (isErrno(err, 'ENOTDIR')) return false;
        throw new FileIOError(`cannot list ${pathToUri(dir)}: ${(err as Error).message}`, { cause: err });
      }
      let empty = true;
      // Symbolic links (even to folders) count as content: a cleanup never follows one.
      for (const e of entries) if (!(e.isDirectory() && (await prune(path.join(dir, e.name))))) empty = false;
      if (!empty || (await spare(pathToUri(dir)))) return false;
      try {
        // rmdir(2) refuses a folder that is not empty: a file written meanwhile keeps its folder.
        await fs.rmdir(dir);
        removed++;
        return true;
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return true;
        if (isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST') || isErrno(err, 'EBUSY')) return false;
        throw new FileIOError(`cannot remove folder ${pathToUri(dir)}: ${(err as Error).message}`, { cause: err });
      }
    };
    await prune(uriToPath(prefix));
    return removed;
  }
}
