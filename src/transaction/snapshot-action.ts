// What a snapshot-producing operation (append, overwrite, rewrite) hands the commit loop for
// one attempt. Actions compute data; only the commit loop talks to the catalog.
import type { FileIO } from '../io/file-io.ts';
import { EntryStatus, type DataFile, type ManifestFile } from '../spec/data-file.ts';
import type { Snapshot, TableMetadata } from '../spec/table-metadata.ts';
import type { TableRequirement, TableUpdate } from '../spec/table-updates.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { totalsFromEntries, totalsFromSummary, type Totals } from './snapshot-summary.ts';
import { manifestEntries } from './table-manifests.ts';

export interface PreparedSnapshot {
  readonly snapshot: Snapshot;
  readonly updates: readonly TableUpdate[];
  readonly requirements: readonly TableRequirement[];
  /** Files written for this attempt only (manifest list, merged manifests): deleted when the
   * attempt definitely failed. */
  readonly attemptFiles: readonly string[];
  /** The writes of the files the updates reference, still in flight: the pointer must not
   * move before it resolves (see PreparedUpdate.written). */
  readonly written?: Promise<void>;
}

export interface SnapshotAction {
  /** Fixed across attempts, so a commit whose answer was lost is recognised, never redone. */
  readonly snapshotId: bigint;
  readonly branch: string;
  /** Builds the attempt on `base`; re-run on a fresh base after every conflict. `undefined`:
   * nothing to change on this base (e.g. a delete that matches no row), nothing is committed. */
  prepare(base: LoadedTable, attempt: number): Promise<PreparedSnapshot | undefined>;
  /** Files written once for every attempt (new manifests), deleted if the commit fails for good. */
  sharedFiles(): readonly string[];
}

/**
 * The attempt that puts `snapshot` at the head of `branch`: add it, move the ref (keeping its
 * retention settings), and require the ref still to be at the snapshot's parent — any commit
 * to the branch in between fails the attempt and the action is rebuilt on the new head.
 */
export function branchCommit(meta: TableMetadata, branch: string, snapshot: Snapshot, attemptFiles: readonly string[]): PreparedSnapshot {
  return {
    snapshot,
    attemptFiles,
    updates: [
      { action: 'add-snapshot', snapshot },
      { action: 'set-snapshot-ref', refName: branch, ...(meta.refs[branch] ?? {}), type: 'branch', snapshotId: snapshot.snapshotId },
    ],
    requirements: [
      { type: 'assert-table-uuid', uuid: meta.tableUuid },
      // A branch that does not exist yet (forked from main by this commit) must still not exist.
      { type: 'assert-ref-snapshot-id', ref: branch, snapshotId: meta.refs[branch] === undefined ? null : snapshot.parentSnapshotId },
    ],
  };
}

/**
 * The attempt that stages `snapshot` (write-audit-publish by `wap.id`): only add it. No ref moves
 * and nothing is required of main — the snapshot records main's head as its parent, and publishing
 * (cherry-pick) re-applies it if main moved meanwhile, as Java's `stageOnly()` commits.
 */
export function stagedCommit(meta: TableMetadata, snapshot: Snapshot, attemptFiles: readonly string[]): PreparedSnapshot {
  return {
    snapshot,
    attemptFiles,
    updates: [{ action: 'add-snapshot', snapshot }],
    requirements: [{ type: 'assert-table-uuid', uuid: meta.tableUuid }],
  };
}

/** The parent's `total-*` figures: from its summary, or counted from its manifests if missing. */
export async function parentTotals(io: FileIO, parent: Snapshot | undefined, manifests: readonly ManifestFile[]): Promise<Totals> {
  const fromSummary = totalsFromSummary(parent?.summary);
  if (fromSummary) return fromSummary;
  const live: DataFile[] = [];
  for (const m of manifests) for (const e of await manifestEntries(io, m)) if (e.status !== EntryStatus.Deleted) live.push(e.dataFile);
  return totalsFromEntries(live);
}
