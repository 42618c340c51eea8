/**
 * `floe/compaction`: compaction and table maintenance — bin-packing small files
 * ({@link compactTable}), on a schedule ({@link startCompaction}), snapshot expiry, orphan file
 * removal, manifest and position-delete rewrites, and the table doctor.
 * @module floe/compaction
 */
export { compactTable } from '../compaction/compact-table.ts';
export type { CompactionEvent, CompactOptions, CompactReport } from '../compaction/compact-table.ts';
export { startCompaction } from '../compaction/compaction-service.ts';
export type { CompactService, CompactServiceOptions } from '../compaction/compaction-service.ts';
export { expireSnapshots } from '../compaction/expire-snapshots.ts';
export type { ExpiringFile, ExpiringSnapshot, ExpiryDryRun, ExpiryOptions, ExpiryResult } from '../compaction/expire-snapshots.ts';
export { removeOrphanFiles } from '../compaction/remove-orphans.ts';
export type { RemoveOrphansOptions, RemoveOrphansResult } from '../compaction/remove-orphans.ts';
export { rewriteManifests } from '../compaction/rewrite-manifests.ts';
export type { RewriteManifestsResult } from '../compaction/rewrite-manifests.ts';
export { rewritePositionDeletes } from '../compaction/rewrite-position-deletes.ts';
export type { RewritePositionDeletesOptions, RewritePositionDeletesResult } from '../compaction/rewrite-position-deletes.ts';
export { CHECK_NAMES, runTableDoctor } from '../compaction/table-doctor.ts';
export type { CheckName, DoctorCheck, DoctorOptions, DoctorReport } from '../compaction/table-doctor.ts';
export type { PlannerFile, RewriteGroup, RewriteJobOrder, RewritePlan } from '../compaction/planner.ts';
export type { CheckStatus } from '../compaction/table-doctor.ts';
