// The rewrite-manifests maintenance action: skips a branch with at most one manifest, else
// commits a RewriteManifests snapshot (src/transaction/rewrite-manifests.ts) and reports it.
import { branchHead, MAIN_BRANCH } from '../src/spec/table-metadata.ts';
import type { Catalog } from '../src/table/catalog.ts';
import type { TableIdentifier } from '../src/table/identifier.ts';
import { commitWithRetry, type CommitHooks } from '../src/transaction/commit-with-retry.ts';
import { RewriteManifests, type RewriteManifestsStats } from '../src/transaction/rewrite-manifests.ts';
import { snapshotManifests } from '../src/transaction/table-manifests.ts';

/** What {@link rewriteManifests} committed. */
export interface RewriteManifestsResult extends RewriteManifestsStats {
  /** The new snapshot, or null when there was nothing to rewrite (see `reason`). */
  readonly snapshotId: bigint | null;
  /** The branch rewritten. */
  readonly branch: string;
  /** Why nothing was rewritten. */
  readonly reason?: string;
}

/**
 * Rewrites a branch's manifests into fewer, larger ones grouped by partition (Iceberg's
 * rewrite_manifests), so planning a scan reads fewer files after many small commits. Data
 * files are untouched; a branch with at most one manifest is skipped.
 *
 * @throws {@link floe!NotFoundError} for a missing table or branch.
 */
export async function rewriteManifests(catalog: Catalog, id: TableIdentifier, opts: { branch?: string; hooks?: CommitHooks } = {}): Promise<RewriteManifestsResult> {
  const branch = opts.branch ?? MAIN_BRANCH;
  const base = await catalog.loadTable(id);
  const head = branchHead(base.metadata, branch);
  const count = head ? (await snapshotManifests(catalog.io, head)).length : 0;
  if (count <= 1) {
    return {
      snapshotId: null, branch, manifestsCreated: 0, manifestsKept: count, manifestsReplaced: 0, entriesProcessed: 0,
      reason: head ? `branch '${branch}' has ${count} manifest${count === 1 ? '' : 's'}; nothing to rewrite` : `branch '${branch}' has no snapshot; nothing to rewrite`,
    };
  }
  const action = new RewriteManifests(catalog.io, { branch });
  const result = await commitWithRetry(catalog, id, action, { base, ...(opts.hooks ? { hooks: opts.hooks } : {}) });
  // The landed snapshot's own summary: right even when the commit was recognised after a lost answer.
  const n = (k: string): number => Number(result.snapshot.summary[k] ?? 0);
  return {
    snapshotId: result.snapshot.snapshotId, branch, manifestsCreated: n('manifests-created'), manifestsKept: n('manifests-kept'),
    manifestsReplaced: n('manifests-replaced'), entriesProcessed: n('entries-processed'),
  };
}
