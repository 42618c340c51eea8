// What a snapshot-producing operation (append, overwrite, rewrite) hands the commit loop for
// one attempt. Actions compute data; only the commit loop talks to the catalog.
import type { LoadedTable } from '../table/catalog.ts';
import type { Snapshot } from '../spec/table-metadata.ts';
import type { TableRequirement, TableUpdate } from '../spec/table-updates.ts';

export interface PreparedSnapshot {
  readonly snapshot: Snapshot;
  readonly updates: readonly TableUpdate[];
  readonly requirements: readonly TableRequirement[];
  /** Files written for this attempt only (manifest list, merged manifests): deleted when the
   * attempt definitely failed. */
  readonly attemptFiles: readonly string[];
}

export interface SnapshotAction {
  /** Fixed across attempts, so a commit whose answer was lost is recognised, never redone. */
  readonly snapshotId: bigint;
  readonly branch: string;
  /** Builds the attempt on `base`; re-run on a fresh base after every conflict. */
  prepare(base: LoadedTable, attempt: number): Promise<PreparedSnapshot>;
  /** Files written once for every attempt (new manifests), deleted if the commit fails for good. */
  sharedFiles(): readonly string[];
}
