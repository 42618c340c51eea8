// The FileIO a catalog hands out: picks the store by each location's scheme, as Java's
// ResolvingFileIO does — `file:` and absolute paths on the local disk, `s3://` (and `s3a://`,
// `s3n://`, which other engines write) on S3. The S3 client is made on first use, so a
// local-only warehouse never needs S3 settings or credentials.
import { FileIOError } from '../errors.ts';
import type { FileInfo, FileIO, OutputFile, RandomAccessBlob } from './file-io.ts';
import { LocalFileIO } from './local-file-io.ts';
import { S3FileIO } from './s3-file-io.ts';
import { isS3Uri } from './s3-location.ts';
import { s3Settings, type S3Settings } from './s3-settings.ts';

export class ResolvingFileIO implements FileIO {
  readonly local = new LocalFileIO();
  private s3io: S3FileIO | undefined;
  private settings: S3Settings | undefined;

  /** `properties`: Iceberg's S3 property names (s3.endpoint, s3.access-key-id, …). */
  constructor(private readonly properties: Readonly<Record<string, string>> = {}) {}

  /** The S3 FileIO (created on first use); its settings errors surface here, naming the property. */
  get s3(): S3FileIO {
    this.settings ??= s3Settings(this.properties);
    this.s3io ??= new S3FileIO(this.settings);
    return this.s3io;
  }

  private io(uri: string): FileIO {
    if (isS3Uri(uri)) return this.s3;
    if (uri.startsWith('file:') || uri.startsWith('/')) return this.local;
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
    throw new FileIOError(`cannot open '${uri}': ${scheme ? `no file IO for scheme '${scheme}:' (floe reads file: and s3:// locations)` : 'not an absolute location'}`);
  }

  read(uri: string): Promise<Uint8Array> { return this.io(uri).read(uri); }
  writeNew(uri: string, bytes: Uint8Array): Promise<void> { return this.io(uri).writeNew(uri, bytes); }
  createNew(uri: string): Promise<OutputFile> { return this.io(uri).createNew(uri); }
  openBlob(uri: string): Promise<RandomAccessBlob> { return this.io(uri).openBlob(uri); }
  exists(uri: string): Promise<boolean> { return this.io(uri).exists(uri); }
  delete(uri: string): Promise<void> { return this.io(uri).delete(uri); }
  list(prefix: string): Promise<FileInfo[]> { return this.io(prefix).list(prefix); }

  async canonicalLocation(uri: string): Promise<string> {
    const io = this.io(uri);
    return io.canonicalLocation ? io.canonicalLocation(uri) : uri;
  }

  async deleteMany(uris: readonly string[]): Promise<string[]> {
    const s3 = uris.filter(isS3Uri);
    const failed = s3.length > 0 ? await this.s3.deleteMany(s3) : [];
    for (const uri of uris) {
      if (isS3Uri(uri)) continue;
      try { await this.io(uri).delete(uri); } catch { failed.push(uri); }
    }
    return failed;
  }

  /** Local folders only: an object store has no folders to leave behind. */
  async removeEmptyFolders(prefix: string, spare?: (folder: string) => boolean | Promise<boolean>): Promise<number> {
    return isS3Uri(prefix) ? 0 : this.local.removeEmptyFolders(prefix, spare);
  }

  async abortStaleUploads(prefix: string, olderThanMs: number): Promise<number> {
    return isS3Uri(prefix) ? this.s3.abortStaleUploads(prefix, olderThanMs) : 0;
  }

  /** Closes the S3 client's sockets (a CLI exits promptly). */
  close(): void { this.s3io?.destroy(); }
}
