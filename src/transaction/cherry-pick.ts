// Cherry-pick (Java's CherryPickOperation, extended to row-level snapshots): re-applies what one
// snapshot did — the same data and delete files, in new manifests of a new snapshot — on top of
// another branch's head. The files are not rewritten; their sequence numbers are the new
// snapshot's, so equality deletes keep applying to every older row, as they did where the
// snapshot was first committed. Whether re-applying is still correct on the new head (the rows
// a position delete points at still live, no new deletes for a removed file, no key changed on
// both sides) is the caller's `validate` (src/wap/publish-validation.ts).
import { ValidationError } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
import type { Snapshot } from '../spec/table-metadata.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { SnapshotProducer, type ProducerOptions, type SnapshotChanges } from './snapshot-producer.ts';
import { snapshotOwnChanges, type OwnChanges } from './snapshot-own-changes.ts';
import type { Operation } from './snapshot-summary.ts';

/** Re-applying a staged snapshot on main's new head would not give the same rows (main changed
 * or deleted rows the snapshot also touched): never retried. Resolve by re-staging on main. */
export class CherryPickConflictError extends ValidationError {
  constructor(message: string) {
    super(message);
    this.name = 'CherryPickConflictError';
  }
}

/** Summary keys computed per snapshot (spec Appendix F and Java's SnapshotSummary): never
 * copied from the source, recomputed for the new snapshot. `wap.id` becomes `published-wap-id`. */
const COMPUTED_SUMMARY_KEYS = new Set([
  'operation', 'added-data-files', 'deleted-data-files', 'added-delete-files', 'removed-delete-files',
  'added-position-delete-files', 'removed-position-delete-files', 'added-equality-delete-files',
  'removed-equality-delete-files', 'added-dvs', 'removed-dvs', 'added-records', 'deleted-records',
  'added-files-size', 'removed-files-size', 'added-position-deletes', 'removed-position-deletes',
  'added-equality-deletes', 'removed-equality-deletes', 'changed-partition-count', 'partition-summaries-included',
  'total-records', 'total-files-size', 'total-data-files', 'total-delete-files', 'total-position-deletes',
  'total-equality-deletes', 'engine-name', 'engine-version', 'iceberg-version', 'wap.id', 'source-snapshot-id', 'published-wap-id',
]);

/** The source's own summary keys a cherry-picked snapshot carries (source offsets, app ids…). */
export function carriedSummary(source: Snapshot): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source.summary)) if (!COMPUTED_SUMMARY_KEYS.has(k) && !k.startsWith('partitions.')) out[k] = v;
  return out;
}

const OPERATIONS: readonly Operation[] = ['append', 'overwrite', 'delete', 'replace'];

export interface CherryPickOptions extends ProducerOptions {
  readonly source: Snapshot;
  /** Checked on every base the snapshot is built on (`parent`: the head it goes on top of);
   * throw CherryPickConflictError to refuse. */
  readonly validate?: (base: LoadedTable, parent: Snapshot | undefined, changes: OwnChanges) => Promise<void>;
}

export class CherryPick extends SnapshotProducer {
  private own: OwnChanges | undefined;

  constructor(io: FileIO, private readonly o: CherryPickOptions) {
    super(io, {
      ...o,
      summary: {
        ...carriedSummary(o.source), ...o.summary,
        'source-snapshot-id': o.source.snapshotId.toString(),
        ...(o.source.summary['wap.id'] !== undefined ? { 'published-wap-id': o.source.summary['wap.id'] } : {}),
      },
    });
  }

  get source(): Snapshot { return this.o.source; }

  /** The source's own changes (read once). */
  async sourceChanges(): Promise<OwnChanges> {
    this.own ??= await snapshotOwnChanges(this.io, this.o.source);
    return this.own;
  }

  protected override removedFilesMissing(missing: readonly string[]): never {
    throw new CherryPickConflictError(`snapshot ${this.o.source.snapshotId} removes ${missing[0]}, which is no longer live on ${this.branch} (another commit removed or rewrote it)${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`);
  }

  protected async changes(base: LoadedTable, parent: Snapshot | undefined): Promise<SnapshotChanges> {
    const s = this.o.source;
    const operation = s.summary.operation as Operation | undefined;
    if (operation === undefined || !OPERATIONS.includes(operation)) {
      throw new ValidationError(`cannot cherry-pick snapshot ${s.snapshotId}: unknown operation '${operation ?? ''}'`);
    }
    const own = await this.sourceChanges();
    await this.o.validate?.(base, parent, own);
    return {
      operation,
      addedDataFiles: own.addedDataFiles,
      addedDeleteFiles: own.addedDeleteFiles,
      removedFiles: own.removedFiles,
    };
  }
}
