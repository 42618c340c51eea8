// A row-level change (Java's RowDelta / OverwriteFiles): upsert, delete by key, delete by
// predicate. Its changes are planned on every base it is tried on — which rows of which live
// files are hit depends on the branch head — so a commit that loses a race re-plans on the new
// head and never deletes a row that was rewritten, resurrects one that was deleted, or misses
// one that was appended meanwhile. The files it writes belong to that attempt only.
//
// Operation label (spec, Java's BaseRowDelta): rows only added (or none) → `append`; rows only removed
// (delete files added, or data files dropped without replacement) → `delete`; else `overwrite`.
import { faultPoint } from '../fault-points.ts';
import type { FileIO } from '../io/file-io.ts';
import type { Snapshot } from '../spec/table-metadata.ts';
import type { LoadedTable } from '../table/catalog.ts';
import type { Operation } from './snapshot-summary.ts';
import { SnapshotProducer, type ProducerFaultPoints, type ProducerOptions, type SnapshotChanges } from './snapshot-producer.ts';

export type RowDeltaChanges = Omit<SnapshotChanges, 'operation' | 'dataSequenceNumber'>;

export interface RowDeltaOptions extends ProducerOptions {
  /** Plans the change on one base (null: no row changes); files it writes must be listed in
   * `attemptFiles`, and removed by `plan` itself if it fails half-way. */
  readonly plan: (base: LoadedTable, parent: Snapshot | undefined, attempt: number) => Promise<RowDeltaChanges | null>;
}

export function rowDeltaOperation(c: RowDeltaChanges): Operation {
  const addsData = (c.addedDataFiles?.length ?? 0) > 0;
  const addsDeletes = (c.addedDeleteFiles?.length ?? 0) > 0;
  const removes = (c.removedFiles?.length ?? 0) > 0;
  // Rows only added — or nothing changed at all (a batch that records source offsets only).
  if (!addsDeletes && !removes) return 'append';
  if (!addsData) return 'delete';
  return 'overwrite';
}

export class RowDelta extends SnapshotProducer {
  /** What the last attempt planned (the landed one, once the commit returns). */
  lastChanges: RowDeltaChanges | undefined = undefined;

  constructor(io: FileIO, private readonly o: RowDeltaOptions) {
    super(io, o);
  }

  protected override faultPoints(): ProducerFaultPoints {
    return { afterManifestList: 'merge.after-manifest-list' };
  }

  protected async changes(base: LoadedTable, parent: Snapshot | undefined, attempt: number): Promise<SnapshotChanges | null> {
    const planned = await this.o.plan(base, parent, attempt);
    if (planned && (planned.attemptFiles?.length ?? 0) > 0) faultPoint('merge.after-files');
    this.lastChanges = planned ?? undefined;
    return planned ? { ...planned, operation: rowDeltaOperation(planned) } : null;
  }
}
