// `floe branch list`'s rows: every branch of a table with its lineage against main and its
// write-audit-publish audit status (a module apart so the CLI loads it only when listing).
import { MAIN_BRANCH, type SnapshotRef, type TableMetadata } from '../spec/table-metadata.ts';
import { divergence } from '../table/ref-lineage.ts';
import { branchAuditRecord } from '../wap/branch-status.ts';

export interface BranchListing {
  readonly name: string;
  readonly snapshotId: bigint;
  /** Commits on the branch since it forked from main / commits on main since then. */
  readonly ahead: number;
  readonly behind: number;
  readonly audit: 'pending' | 'passed' | 'failed' | 'quarantined' | 'unreadable';
  readonly failedChecks: readonly string[];
  readonly ref: SnapshotRef;
}

/** Every branch of the table (main first, then by name) with lineage and audit status. */
export function listBranches(m: TableMetadata): BranchListing[] {
  const names = Object.entries(m.refs).filter(([, r]) => r.type === 'branch').map(([n]) => n)
    .sort((a, b) => (a === MAIN_BRANCH ? -1 : b === MAIN_BRANCH ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => {
    const ref = m.refs[name]!;
    const d = divergence(m, ref.snapshotId);
    let audit: BranchListing['audit'] = 'pending';
    let failedChecks: string[] = [];
    try {
      const record = branchAuditRecord(m, name);
      // A record of an older head says nothing about what the branch holds now.
      if (record && record.snapshotId === ref.snapshotId) {
        audit = record.status;
        failedChecks = record.failed.map((f) => f.name);
      }
    } catch {
      audit = 'unreadable';
    }
    return { name, snapshotId: ref.snapshotId, ahead: d.branchOnly.length, behind: d.baseOnly.length, audit, failedChecks, ref };
  });
}
