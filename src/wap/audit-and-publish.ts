// The gate of write-audit-publish: audit what a branch adds over main, then publish it (fast-
// forward or re-apply on a moved main) or quarantine it with the audit's report. Used by
// `floe publish --checks` and by every ingest route with `wap:` after its batches.
import { faultPoint } from '../fault-points.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { divergence, refSnapshot } from '../table/ref-lineage.ts';
import { runAudit, type AuditChecks, type AuditReport } from '../audit/index.ts';
import type { BranchAuditRecord, FailedCheckSummary } from './branch-status.ts';
import { publishBranch, type PublishResult } from './publish.ts';
import { PublishRefusedError } from './publish-errors.ts';
import { CherryPickConflictError } from '../transaction/cherry-pick.ts';
import { quarantineBranch } from './quarantine.ts';

/** Options of {@link auditAndPublish}. */
export interface GateOptions {
  /** The branch to audit and publish. */
  readonly branch: string;
  /** Without checks the branch is published as it is. */
  readonly checks?: AuditChecks;
  /** "Now" for freshness checks (default: the clock). */
  readonly nowMs?: number;
  /** A publish refused as a conflict with main quarantines the branch instead of failing
   * (ingest: the pipeline goes on; the refused batches wait on the quarantine branch). */
  readonly quarantineConflicts?: boolean;
}

/** What the gate decided. */
export interface GateResult {
  /** `published`, `quarantined` (audit failed or publish conflicted) or `nothing` (the branch adds nothing). */
  readonly outcome: 'published' | 'quarantined' | 'nothing';
  /** The audited branch. */
  readonly branch: string;
  /** The audit's report (absent without checks). */
  readonly report?: AuditReport;
  /** The publish, when published. */
  readonly publish?: PublishResult;
  /** Where the branch was moved when quarantined (`quarantine/<branch>/<head id>`). */
  readonly quarantineBranch?: string;
  /** The failed checks of severity `error`. */
  readonly failed: readonly FailedCheckSummary[];
  /** Milliseconds spent auditing. */
  readonly auditMs: number;
  /** Milliseconds spent publishing. */
  readonly publishMs: number;
}

export function failedChecks(report: AuditReport): FailedCheckSummary[] {
  return report.checks.filter((c) => !c.passed && c.severity !== 'warn').map((c) => ({ name: c.name, type: c.type, failing: c.failing, message: c.message }));
}

/**
 * The gate of write-audit-publish: audits the rows a branch adds over main with declarative
 * checks (dbt's names: `not_null`, `unique`, `accepted_values`, `range`, `row_count`,
 * `freshness`, `relationships`, `sql`; run in DuckDB), then publishes the branch
 * ({@link publishBranch}, refused if the branch moved since the audit) when every `error` check
 * passed, or quarantines it when one failed: the branch is renamed `quarantine/<branch>/<head id>`
 * with the failed checks recorded in a table property (`floe.wap.audit.<that name>`), so the
 * rows wait there instead of reaching main.
 *
 * @throws {@link NotFoundError} for an unknown branch; {@link ValidationError} for a check naming
 * an unknown column; publish errors unless `quarantineConflicts`.
 * @example
 * ```ts
 * const checks = await loadAuditChecks('checks.yaml');
 * const r = await auditAndPublish(catalog, id, { branch: 'etl', checks });
 * if (r.outcome === 'quarantined') console.error(r.failed);
 * ```
 */
export async function auditAndPublish(catalog: Catalog, id: TableIdentifier, o: GateOptions): Promise<GateResult> {
  const meta = (await catalog.loadTable(id)).metadata;
  const head = refSnapshot(meta, o.branch);
  const none = { branch: o.branch, failed: [], auditMs: 0, publishMs: 0 };
  if (divergence(meta, head.snapshotId).branchOnly.length === 0) return { outcome: 'nothing', ...none };
  const t0 = performance.now();
  const report = o.checks ? await runAudit(catalog, id, { branch: o.branch, checks: o.checks, snapshotId: head.snapshotId, ...(o.nowMs !== undefined ? { nowMs: o.nowMs } : {}) }) : undefined;
  const auditMs = performance.now() - t0;
  faultPoint('wap.after-audit');
  const t1 = performance.now();
  const quarantine = async (failed: FailedCheckSummary[]): Promise<GateResult> => {
    const record: BranchAuditRecord = { status: 'quarantined', snapshotId: head.snapshotId, checkedAtMs: o.nowMs ?? Date.now(), checks: report?.checks.length ?? 0, failed, quarantinedFrom: o.branch };
    const q = await quarantineBranch(catalog, id, { branch: o.branch, record });
    return { outcome: 'quarantined', branch: o.branch, ...(report ? { report } : {}), quarantineBranch: q.quarantineBranch, failed, auditMs, publishMs: performance.now() - t1 };
  };
  if (report && !report.passed) return quarantine(failedChecks(report));
  try {
    const publish = await publishBranch(catalog, id, { branch: o.branch, expectedHead: head.snapshotId });
    return { outcome: 'published', branch: o.branch, ...(report ? { report } : {}), publish, failed: [], auditMs, publishMs: performance.now() - t1 };
  } catch (err) {
    if (!o.quarantineConflicts || !isPublishConflict(err)) throw err;
    return quarantine([{ name: 'publish', type: 'conflict', failing: 1, message: (err as Error).message }]);
  }
}

/** A publish refused because main changed what the branch's batches touch (not bad input). */
function isPublishConflict(err: unknown): boolean {
  return err instanceof CherryPickConflictError || (err instanceof PublishRefusedError && err.reason === 'conflict');
}
