// The commit of rewrite-position-deletes (Iceberg's rewrite_position_delete_files, operation
// `replace`): removes a partition's position-delete files and adds the one file that merges
// them, in one snapshot. Each new file keeps the greatest data sequence number of the files it
// replaces (Java's RewriteFiles.addFile(deleteFile, dataSequenceNumber)): never smaller than
// that of any data file it names, so every delete still applies, and no newer than the deletes
// themselves, so a compaction that started before this commit does not mistake the merged file
// for a new delete of its replaced files. A replaced delete file that another commit removed
// meanwhile (a compaction dropped it) refuses the commit: its rows would come back in the merge.
import { EntryStatus, ManifestContent, type DataFile, type ManifestEntry, type ManifestFile } from '../spec/data-file.ts';
import { ValidationError } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
import type { PendingWrites } from '../io/pending-writes.ts';
import type { Snapshot, TableMetadata } from '../spec/table-metadata.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { RewriteValidationError } from './replace-data-files.ts';
import { SnapshotProducer, type ManifestPlan, type ProducerOptions, type SnapshotChanges } from './snapshot-producer.ts';
import { writeTableManifest } from './table-manifests.ts';

export interface MergedPositionDeletes {
  /** The new position-delete file (or none, when every entry was dangling). */
  readonly file: DataFile | null;
  /** The data sequence number it keeps: the greatest of the files it replaces. */
  readonly dataSequenceNumber: bigint;
}

export interface RewritePositionDeletesOptions extends ProducerOptions {
  /** Live position-delete files of the starting snapshot this commit replaces. */
  readonly removed: readonly DataFile[];
  readonly added: readonly MergedPositionDeletes[];
}

export class RewritePositionDeletes extends SnapshotProducer {
  private readonly added: readonly { file: DataFile; dataSequenceNumber: bigint }[];

  constructor(io: FileIO, private readonly o: RewritePositionDeletesOptions) {
    super(io, o);
    if (o.removed.length === 0) throw new ValidationError('rewrite-position-deletes must replace at least one delete file');
    this.added = o.added.flatMap((a) => (a.file ? [{ file: a.file, dataSequenceNumber: a.dataSequenceNumber }] : []));
  }

  protected override removedFilesMissing(missing: readonly string[]): never {
    throw new RewriteValidationError(`cannot commit rewrite-position-deletes: ${missing.length} replaced delete file(s) are no longer live at ${this.branch}'s head (removed by a concurrent commit), e.g. ${missing[0]}`);
  }

  protected async changes(_base: LoadedTable, head: Snapshot | undefined): Promise<SnapshotChanges> {
    if (!head) throw new RewriteValidationError(`cannot commit rewrite-position-deletes: branch '${this.branch}' has no snapshot any more`);
    // addedDeleteFiles feeds the summary; their manifests are written by planManifests below.
    return { operation: 'replace', addedDeleteFiles: this.added.map((a) => a.file), removedFiles: this.o.removed };
  }

  /** The producer gives all added files one sequence number; here each keeps its own, so the
   * added delete manifests are written per attempt and handed on as if they were the parent's
   * (delete manifests are never merged, and none holds a removed file). */
  protected override async planManifests(meta: TableMetadata, parentManifests: readonly ManifestFile[], changes: SnapshotChanges, attempt: number, writes: PendingWrites): Promise<ManifestPlan> {
    const written: string[] = [];
    const own: ManifestFile[] = [];
    try {
      const bySpec = new Map<number, ManifestEntry[]>();
      for (const a of this.added) {
        const entry: ManifestEntry = { status: EntryStatus.Added, snapshotId: this.snapshotId, sequenceNumber: a.dataSequenceNumber, fileSequenceNumber: null, dataFile: a.file };
        const list = bySpec.get(a.file.specId);
        if (list) list.push(entry); else bySpec.set(a.file.specId, [entry]);
      }
      for (const [specId, entries] of bySpec) {
        const path = `${meta.location}/metadata/${this.commitUuid}-a${attempt}-m${own.length}-deletes.avro`;
        const result = await writeTableManifest({ io: this.io, metadata: meta, path, specId, content: ManifestContent.Deletes, addedSnapshotId: this.snapshotId, entries });
        written.push(...result.paths);
        own.push(...result.manifests);
      }
      const rest = await super.planManifests(meta, [...own, ...parentManifests], { ...changes, addedDeleteFiles: [] }, attempt, writes);
      return { manifests: rest.manifests, attemptFiles: [...written, ...rest.attemptFiles] };
    } catch (err) {
      for (const f of written) await this.io.delete(f);
      throw err;
    }
  }
}
