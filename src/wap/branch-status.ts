// The audit status of a write-audit-publish branch, kept in the table's properties so every
// floe process (and `floe branch list`) sees it: `floe.wap.audit.<branch>` holds a compact JSON
// record of the last audit of that branch — which head it audited, when, and what failed.
// A quarantined branch keeps its record under its quarantine name. Written by `floe audit`,
// `floe publish` and the quarantine step; read by `floe branch list` and `floe publish`.
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { parseJsonExact } from '../spec/json.ts';
import type { TableMetadata } from '../spec/table-metadata.ts';
import { WAP_AUDIT_PROPERTY_PREFIX } from '../spec/table-properties.ts';

export const AUDIT_PROPERTY_PREFIX = WAP_AUDIT_PROPERTY_PREFIX;
/** Quarantined branches are renamed under this prefix: `quarantine/<branch>/<head snapshot id>`. */
export const QUARANTINE_PREFIX = 'quarantine/';

export type AuditStatus = 'passed' | 'failed' | 'quarantined';

/** A failed audit check, as kept in the branch's audit record. */
export interface FailedCheckSummary {
  /** The check's name. */
  readonly name: string;
  /** The check's type (`not_null`, `unique`…). */
  readonly type: string;
  /** Offending rows (or the measured value for row-count/freshness checks). */
  readonly failing: number;
  /** One line on what failed. */
  readonly message: string;
}

export interface BranchAuditRecord {
  readonly status: AuditStatus;
  /** The branch head the audit ran on (a later commit to the branch makes the record stale). */
  readonly snapshotId: bigint;
  readonly checkedAtMs: number;
  readonly checks: number;
  readonly failed: readonly FailedCheckSummary[];
  /** The branch's name before quarantine. */
  readonly quarantinedFrom?: string;
}

const recordJson = z.object({
  status: z.enum(['passed', 'failed', 'quarantined']),
  'snapshot-id': z.string().regex(/^-?\d+$/),
  'checked-at-ms': z.number().int(),
  checks: z.number().int().nonnegative(),
  failed: z.array(z.object({ name: z.string(), type: z.string(), failing: z.number(), message: z.string() })),
  'quarantined-from': z.string().optional(),
});

export function auditPropertyKey(branch: string): string { return `${AUDIT_PROPERTY_PREFIX}${branch}`; }

export function isQuarantineBranch(name: string): boolean { return name.startsWith(QUARANTINE_PREFIX); }

export function quarantineName(branch: string, headSnapshotId: bigint): string {
  return `${QUARANTINE_PREFIX}${branch}/${headSnapshotId}`;
}

/** The JSON stored in the property (failure messages cut so the property stays small). */
export function encodeAuditRecord(r: BranchAuditRecord): string {
  return JSON.stringify({
    status: r.status,
    'snapshot-id': r.snapshotId.toString(),
    'checked-at-ms': r.checkedAtMs,
    checks: r.checks,
    failed: r.failed.slice(0, 20).map((f) => ({ ...f, message: f.message.length > 300 ? `${f.message.slice(0, 297)}...` : f.message })),
    ...(r.quarantinedFrom !== undefined ? { 'quarantined-from': r.quarantinedFrom } : {}),
  });
}

export function decodeAuditRecord(key: string, text: string): BranchAuditRecord {
  let parsed: unknown;
  try { parsed = parseJsonExact(text); } catch (err) { throw new ValidationError(`table property ${key} is not JSON: ${(err as Error).message}`); }
  const r = recordJson.safeParse(parsed);
  if (!r.success) throw new ValidationError(`table property ${key} is not an audit record: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
  const j = r.data;
  return {
    status: j.status, snapshotId: BigInt(j['snapshot-id']), checkedAtMs: j['checked-at-ms'], checks: j.checks, failed: j.failed,
    ...(j['quarantined-from'] !== undefined ? { quarantinedFrom: j['quarantined-from'] } : {}),
  };
}

/** The last audit recorded for `branch`, or undefined. */
export function branchAuditRecord(m: TableMetadata, branch: string): BranchAuditRecord | undefined {
  const key = auditPropertyKey(branch);
  const text = m.properties[key];
  return text === undefined ? undefined : decodeAuditRecord(key, text);
}
