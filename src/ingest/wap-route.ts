// A `wap:` route's gate: its check file loaded (columns and SQL validated) before anything is
// consumed, and the audit-and-publish step the route's ingestor runs every N batches.
import { loadAuditChecks, validateAuditChecks } from '../audit/index.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { auditAndPublish } from '../wap/audit-and-publish.ts';
import { batchesPerPublish, type WapConfig } from './ingest-config.ts';
import type { WapBatchOptions } from './wap-batches.ts';

export async function wapBatchOptions(catalog: Catalog, id: TableIdentifier, wap: WapConfig, o: { nowMs?: () => number } = {}): Promise<WapBatchOptions> {
  const checks = wap.checks !== undefined ? await loadAuditChecks(wap.checks) : undefined;
  if (checks) await validateAuditChecks(catalog, id, checks);
  const branch = wap.branch;
  return {
    branch, batchesPerPublish: batchesPerPublish(wap.publish),
    gate: async () => {
      // A refused publish (a conflict with main) quarantines: the pipeline goes on.
      const r = await auditAndPublish(catalog, id, { branch, ...(checks ? { checks } : {}), quarantineConflicts: true, ...(o.nowMs ? { nowMs: o.nowMs() } : {}) });
      return {
        outcome: r.outcome, branch, ...(r.quarantineBranch ? { quarantineBranch: r.quarantineBranch } : {}),
        failedChecks: r.failed.map((f) => f.name), checks: r.report?.checks.length ?? 0,
        auditedRows: r.report?.checks.reduce((mx, c) => Math.max(mx, c.total), 0) ?? 0,
        auditMs: r.auditMs, publishMs: r.publishMs, publishedSnapshots: r.publish?.published.length ?? 0,
        ...(r.publish ? { publishKind: r.publish.kind } : {}),
      };
    },
  };
}
