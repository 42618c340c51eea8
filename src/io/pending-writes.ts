// New files of one commit written side by side instead of one after the other. A commit writes
// its manifests, its manifest list and the metadata file; each write is a round trip (open,
// write, fsync, link on a local disk; a PUT on an object store), and none needs another one on
// disk — the manifest list needs only the manifests' lengths, known once they are encoded. So
// the writes are started as their bytes are ready and awaited together, just before the catalog
// pointer moves (Catalog.commitTable's `filesWritten`): the pointer never names a file that is
// not completely written.
import type { FileIO } from './file-io.ts';

export class PendingWrites {
  private readonly writes: Promise<void>[] = [];
  private readonly bytesByUri = new Map<string, Uint8Array>();

  /** `parent`: writes started here count among the parent's too (a step of the commit that
   * must know when its own files are written). */
  constructor(private readonly io: FileIO, private readonly parent?: PendingWrites) {}

  /** Starts writing `bytes` to the new file `uri` (FileIO.writeNew); `bytes` must not change
   * until `settled()` resolves. Returns the write's own outcome. */
  write(uri: string, bytes: Uint8Array): Promise<void> {
    const done = this.io.writeNew(uri, bytes);
    for (let w: PendingWrites | undefined = this; w; w = w.parent) {
      w.bytesByUri.set(uri, bytes);
      w.track(done);
    }
    return done;
  }

  /** Adds work that must finish before the writes count as done (e.g. a step run once some of
   * them are). */
  track(work: Promise<void>): void {
    // Observed here so a failure is never an unhandled rejection; `settled()` reports it.
    work.catch(() => undefined);
    this.writes.push(work);
  }

  /** Runs `step` once every write started so far is done (not at all if one fails): a crash
   * test's fault point that names a written file. */
  whenDone(step: () => void): void {
    this.track(this.settled().then(step));
  }

  /** The bytes of a file started here, for a reader that must not wait for the disk (a
   * manifest merge reading the manifest this commit just added). */
  bytesOf(uri: string): Uint8Array | undefined {
    return this.bytesByUri.get(uri);
  }

  /** Resolves once every write started so far is done; rejects with the first failure, but
   * only once every write has settled — so the caller can then delete the files without racing
   * a write that would link one into place afterwards. */
  async settled(): Promise<void> {
    const results = await Promise.allSettled(this.writes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
