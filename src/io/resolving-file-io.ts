// The FileIO a catalog hands out: picks the store by each location's scheme, as Java's
// ResolvingFileIO does — `file:` and absolute paths on the local disk, `s3://` (and `s3a://`,
// `s3n://`, which other engines write) on S3. The S3 client is made on first use, so a
// local-only warehouse never needs S3 settings or credentials — nor loads the AWS SDK (a
// quarter of a second of a CLI command's start-up).
import { FileIOError } from '../errors.ts';
import type { FileInfo, FileIO, OutputFile, RandomAccessBlob } from './file-io.ts';
import { LocalFileIO } from './local-file-io.ts';
import type { S3FileIO } from './s3-file-io.ts';
import { isS3Uri } from './s3-location.ts';
import { s3Settings } from './s3-settings.ts';

export class ResolvingFileIO implements FileIO {
  readonly local = new LocalFileIO();
  private s3io: Promise<S3FileIO> | undefined;
  private s3made: S3FileIO | undefined;
  private closed = false;

  /** `properties`: Iceberg's S3 property names (s3.endpoint, s3.access-key-id, …). */
  constructor(private readonly properties: Readonly<Record<string, string>> = {}) {}

  /** The S3 FileIO (created on first use); its settings errors surface here, naming the property. */
  s3(): Promise<S3FileIO> {
    this.s3io ??= (async () => {
      const settings = s3Settings(this.properties);
      const { S3FileIO } = await import('./s3-file-io.ts');
      const io = new S3FileIO(settings);
      if (this.closed) io.destroy();
      else this.s3made = io;
      return io;
    })();
    return this.s3io;
  }

  private async io(uri: string): Promise<FileIO> {
    if (isS3Uri(uri)) return this.s3();
    if (uri.startsWith('file:') || uri.startsWith('/')) return this.local;
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
    throw new FileIOError(`cannot open '${uri}': ${scheme ? `no file IO for scheme '${scheme}:' (floe reads file: and s3:// locations)` : 'not an absolute location'}`);
  }

  async read(uri: string): Promise<Uint8Array> { return (await this.io(uri)).read(uri); }
  async writeNew(uri: string, bytes: Uint8Array): Promise<void> { return (await this.io(uri)).writeNew(uri, bytes); }
  async createNew(uri: string): Promise<OutputFile> { return (await this.io(uri)).createNew(uri); }
  async openBlob(uri: string): Promise<RandomAccessBlob> { return (await this.io(uri)).openBlob(uri); }
  async readRange(uri: string, start: number, end: number): Promise<Uint8Array> {
    const io = await this.io(uri);
    return io.readRange ? io.readRange(uri, start, end) : new Uint8Array(await (await io.openBlob(uri)).slice(start, end).arrayBuffer());
  }
  async exists(uri: string): Promise<boolean> { return (await this.io(uri)).exists(uri); }
  async delete(uri: string): Promise<void> { return (await this.io(uri)).delete(uri); }
  async list(prefix: string): Promise<FileInfo[]> { return (await this.io(prefix)).list(prefix); }

  async canonicalLocation(uri: string): Promise<string> {
    const io = await this.io(uri);
    return io.canonicalLocation ? io.canonicalLocation(uri) : uri;
  }

  async deleteMany(uris: readonly string[]): Promise<string[]> {
    const s3 = uris.filter(isS3Uri);
    const failed = s3.length > 0 ? await (await this.s3()).deleteMany(s3) : [];
    for (const uri of uris) {
      if (isS3Uri(uri)) continue;
      try { await (await this.io(uri)).delete(uri); } catch { failed.push(uri); }
    }
    return failed;
  }

  /** Local folders only: an object store has no folders to leave behind. */
  async removeEmptyFolders(prefix: string, spare?: (folder: string) => boolean | Promise<boolean>): Promise<number> {
    return isS3Uri(prefix) ? 0 : this.local.removeEmptyFolders(prefix, spare);
  }

  async abortStaleUploads(prefix: string, olderThanMs: number): Promise<number> {
    return isS3Uri(prefix) ? (await this.s3()).abortStaleUploads(prefix, olderThanMs) : 0;
  }

  /** Closes the S3 client's sockets (a CLI exits promptly); one still being made is closed when made. */
  close(): void {
    this.closed = true;
    this.s3made?.destroy();
  }
}
