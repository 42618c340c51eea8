// Fast append on a named branch (Java's MergeAppend): the new data files in one new manifest per
// spec, written once and reused by every retry (their sequence number inherited), the parent's
// manifests carried over and merged when configured. Appends never conflict, so a retry only
// re-bases on the new head — unless `validate` refuses the new base (offsets already committed).
import { ValidationError } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
import type { DataFile } from '../spec/data-file.ts';
import type { Snapshot } from '../spec/table-metadata.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { SnapshotProducer, type ProducerFaultPoints, type ProducerOptions, type SnapshotChanges } from './snapshot-producer.ts';

export interface FastAppendOptions extends ProducerOptions {
  /** Checked against every base before an attempt is built (e.g. source offsets not yet
   * committed by another writer); throwing aborts the commit for good. */
  readonly validate?: (base: LoadedTable, branch: string) => void;
}

export class FastAppend extends SnapshotProducer {
  private readonly validate: FastAppendOptions['validate'];

  constructor(io: FileIO, private readonly files: readonly DataFile[], opts: FastAppendOptions = {}) {
    super(io, opts);
    if (files.length === 0) throw new ValidationError('an append needs at least one data file');
    this.validate = opts.validate;
  }

  protected override faultPoints(): ProducerFaultPoints {
    return { afterAddedManifests: 'append.after-manifest', afterManifestList: 'append.after-manifest-list' };
  }

  protected async changes(base: LoadedTable, _parent: Snapshot | undefined): Promise<SnapshotChanges> {
    this.validate?.(base, this.branch);
    return { operation: 'append', addedDataFiles: this.files };
  }
}
