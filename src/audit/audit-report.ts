// An audit report as text (a line per check, samples indented), as JSON (bigint ids as
// strings), and as the branch's audit status property (`floe.wap.audit.<branch>`, see
// src/wap/branch-status.ts), committed as a set-properties update without a snapshot.
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { commitUpdateWithRetry, type UpdateResult } from '../transaction/commit-with-retry.ts';
import { auditPropertyKey, encodeAuditRecord, type BranchAuditRecord } from '../wap/branch-status.ts';
import type { JsonValue } from './duckdb-session.ts';
import type { AuditReport, CheckResult } from './run-audit.ts';

function verdict(c: CheckResult): 'PASS' | 'FAIL' | 'WARN' {
  return c.passed ? 'PASS' : c.severity === 'warn' ? 'WARN' : 'FAIL';
}

/** The report as lines: a header, then per check `PASS|FAIL|WARN name [scope] message`, samples indented. */
export function formatAuditReport(r: AuditReport): string[] {
  const failed = r.checks.filter((c) => verdict(c) === 'FAIL').length;
  const warned = r.checks.filter((c) => verdict(c) === 'WARN').length;
  const lines = [
    `audit ${r.passed ? 'PASSED' : 'FAILED'}: ${r.table} branch ${r.branch} at snapshot ${r.snapshotId} (base ${r.baseBranch}`
      + `${r.forkSnapshotId !== null ? `, forked at ${r.forkSnapshotId}` : ''}): ${r.checks.length} check(s), ${failed} failed, ${warned} warning(s), ${r.durationMs} ms`,
  ];
  const width = Math.max(0, ...r.checks.map((c) => c.name.length));
  for (const c of r.checks) {
    lines.push(`${verdict(c)}  ${c.name.padEnd(width)}  [${c.scope}]  ${c.message}`);
    for (const s of c.samples) lines.push(`      ${JSON.stringify(s)}`);
  }
  return lines;
}

/** The report as a JSON-safe object (snapshot ids as strings: they exceed 2^53). */
export function auditReportJson(r: AuditReport): { [k: string]: JsonValue } {
  return {
    table: r.table,
    branch: r.branch,
    'base-branch': r.baseBranch,
    'snapshot-id': r.snapshotId.toString(),
    'fork-snapshot-id': r.forkSnapshotId === null ? null : r.forkSnapshotId.toString(),
    'checked-at-ms': r.checkedAtMs,
    passed: r.passed,
    'duration-ms': r.durationMs,
    checks: r.checks.map((c) => ({
      name: c.name, type: c.type, scope: c.scope, severity: c.severity, passed: c.passed,
      failing: c.failing, total: c.total, message: c.message, samples: c.samples.map((s) => ({ ...s })),
    })),
  };
}

/** The record `floe branch list` and `floe publish` read. Failed warnings are not listed. */
export function auditRecordOf(r: AuditReport): BranchAuditRecord {
  return {
    status: r.passed ? 'passed' : 'failed',
    snapshotId: r.snapshotId,
    checkedAtMs: r.checkedAtMs,
    checks: r.checks.length,
    failed: r.checks.filter((c) => !c.passed && c.severity === 'error').map((c) => ({ name: c.name, type: c.type, failing: c.failing, message: c.message })),
  };
}

/** Writes the branch's audit status property (no snapshot), retrying on conflicts. */
export async function recordAuditResult(catalog: Catalog, id: TableIdentifier, report: AuditReport): Promise<UpdateResult> {
  const key = auditPropertyKey(report.branch);
  const value = encodeAuditRecord(auditRecordOf(report));
  return commitUpdateWithRetry(catalog, id, {
    description: `audit status of branch ${report.branch}`,
    prepare: async (base) => {
      if (base.metadata.properties[key] === value) return undefined;
      return { updates: [{ action: 'set-properties', updates: { [key]: value } }], requirements: [{ type: 'assert-table-uuid', uuid: base.metadata.tableUuid }], attemptFiles: [] };
    },
    landed: (t) => t.metadata.properties[key] === value,
  });
}
