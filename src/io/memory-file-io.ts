// An in-memory FileIO for fast unit tests: same contract as LocalFileIO, no disk.
import { AlreadyExistsError, NotFoundError } from '../errors.ts';
import type { FileInfo, FileIO, OutputFile } from './file-io.ts';

export class MemoryFileIO implements FileIO {
  readonly files = new Map<string, { bytes: Uint8Array; modifiedMs: number }>();

  async read(uri: string): Promise<Uint8Array> {
    const f = this.files.get(uri);
    if (!f) throw new NotFoundError(`file not found: ${uri}`);
    return f.bytes;
  }

  async writeNew(uri: string, bytes: Uint8Array): Promise<void> {
    if (this.files.has(uri)) throw new AlreadyExistsError(`file already exists: ${uri}`);
    this.files.set(uri, { bytes: bytes.slice(), modifiedMs: Date.now() });
  }

  async createNew(uri: string): Promise<OutputFile> {
    if (this.files.has(uri)) throw new AlreadyExistsError(`file already exists: ${uri}`);
    const parts: Uint8Array[] = [];
    return {
      write: async (chunk) => { parts.push(chunk.slice()); },
      close: async () => {
        const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
        await this.writeNew(uri, bytes);
        return bytes.length;
      },
      abort: async () => { parts.length = 0; },
    };
  }

  async openBlob(uri: string): Promise<Blob> { return new Blob([await this.read(uri)]); }

  async exists(uri: string): Promise<boolean> { return this.files.has(uri); }

  async delete(uri: string): Promise<void> { this.files.delete(uri); }

  async list(prefix: string): Promise<FileInfo[]> {
    return [...this.files].filter(([u]) => u.startsWith(prefix)).map(([uri, f]) => ({ uri, size: f.bytes.length, modifiedMs: f.modifiedMs }));
  }
}
