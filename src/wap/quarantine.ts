// Quarantine: a batch that failed its audit leaves the audit branch for
// `quarantine/<branch>/<head id>` — in ONE commit the ref is renamed (same head, same retention)
// and the audit record moves with it, marked quarantined. main is never touched; the rows stay
// findable (and their source offsets recorded) on the quarantine branch, and the audit branch
// name is free for the next batch (which forks from main again). A metric and a log line say so.
import pino, { type Logger } from 'pino';
import { ValidationError } from '../errors.ts';
import { MAIN_BRANCH } from '../spec/table-metadata.ts';
import type { Catalog } from '../table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../table/identifier.ts';
import { refSnapshot } from '../table/ref-lineage.ts';
import { commitUpdateWithRetry } from '../transaction/commit-with-retry.ts';
import { auditPropertyKey, encodeAuditRecord, isQuarantineBranch, quarantineName, type BranchAuditRecord } from './branch-status.ts';
import { wapMetrics, type WapMetrics } from './wap-metrics.ts';

export interface QuarantineOptions {
  readonly branch: string;
  /** The audit that failed (its status and quarantinedFrom are set here; snapshotId is the head's). */
  readonly record: Omit<BranchAuditRecord, 'status' | 'quarantinedFrom' | 'snapshotId'> & { readonly snapshotId?: bigint };
  readonly metrics?: WapMetrics;
  readonly log?: Logger;
}

export interface QuarantineResult {
  readonly quarantineBranch: string;
  readonly snapshotId: bigint;
}

let defaultLog: Logger | undefined;
const wapLog = (): Logger => defaultLog ??= pino({ base: { service: 'floe-wap' } }, process.stderr);

export async function quarantineBranch(catalog: Catalog, id: TableIdentifier, o: QuarantineOptions): Promise<QuarantineResult> {
  const table = identifierToString(id);
  if (o.branch === MAIN_BRANCH) throw new ValidationError(`cannot quarantine main of ${table}: only audit branches are quarantined`);
  if (isQuarantineBranch(o.branch)) throw new ValidationError(`branch '${o.branch}' of ${table} is already a quarantine branch`);
  let result: QuarantineResult | undefined;
  await commitUpdateWithRetry(catalog, id, {
    description: `quarantine of branch '${o.branch}'`,
    prepare: async (base) => {
      const m = base.metadata;
      const head = refSnapshot(m, o.branch);
      const ref = m.refs[o.branch]!;
      if (ref.type !== 'branch') throw new ValidationError(`'${o.branch}' of ${table} is a tag, not a branch`);
      const name = quarantineName(o.branch, head.snapshotId);
      if (m.refs[name] !== undefined) {
        // Only by hand (a branch re-created at a quarantined head): retrying cannot help.
        throw new ValidationError(`cannot quarantine branch '${o.branch}' of ${table}: '${name}' already exists (the same head was quarantined before); drop one of the two branches`);
      }
      const record: BranchAuditRecord = { ...o.record, snapshotId: o.record.snapshotId ?? head.snapshotId, status: 'quarantined', quarantinedFrom: o.branch };
      result = { quarantineBranch: name, snapshotId: head.snapshotId };
      return {
        attemptFiles: [],
        requirements: [
          { type: 'assert-table-uuid', uuid: m.tableUuid },
          { type: 'assert-ref-snapshot-id', ref: o.branch, snapshotId: head.snapshotId },
          { type: 'assert-ref-snapshot-id', ref: name, snapshotId: null },
        ],
        updates: [
          { action: 'set-snapshot-ref', refName: name, ...ref },
          { action: 'remove-snapshot-ref', refName: o.branch },
          { action: 'set-properties', updates: { [auditPropertyKey(name)]: encodeAuditRecord(record) } },
          { action: 'remove-properties', removals: [auditPropertyKey(o.branch)] },
        ],
      };
    },
    landed: (t) => result !== undefined && t.metadata.refs[result.quarantineBranch] !== undefined && t.metadata.refs[o.branch]?.snapshotId !== result.snapshotId,
  });
  const r = result!;
  (o.metrics ?? wapMetrics()).quarantinedBatches.inc({ table });
  (o.log ?? wapLog()).warn({
    table, branch: o.branch, quarantineBranch: r.quarantineBranch, snapshotId: r.snapshotId.toString(), checks: o.record.checks,
    failedChecks: o.record.failed.map((f) => ({ name: f.name, type: f.type, failing: f.failing, message: f.message })),
  }, `quarantined branch '${o.branch}' of ${table} as '${r.quarantineBranch}': ${o.record.failed.length > 0 ? `failed ${o.record.failed.map((f) => f.name).join(', ')}` : 'quarantined by hand'}; main untouched`);
  return r;
}
