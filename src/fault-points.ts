// Named crash points for the crash tests (test/integration/crash-*.test.ts): when the env var
// FLOE_FAULT_AT names a point, the process SIGKILLs itself there, so nothing after it runs —
// no finally block, no cleanup, no flush — exactly what a power cut or the OOM killer leaves.
// `FLOE_FAULT_AT=name#N` kills on the Nth time the point is reached (default: the first).
// The variable is read once at start-up; unset, `faultPoint` is one comparison with undefined.
//
// Points, `<operation>.<phase>` (each one a line in the code that reaches it):
//   append.after-data-files            floe append / ingest: Parquet files written, no manifest yet
//   append.after-manifest              fast append: the new data manifest written (once per commit)
//   append.after-manifest-list         fast append: this attempt's manifest list written
//   commit.after-metadata-file         any commit, SQL catalog: new metadata JSON written, pointer not swapped
//   commit.after-catalog-swap          any commit, SQL catalog: pointer swapped, caller not yet told
//   ingest.after-dead-letters          ingest: a batch's bad records committed to the dead-letter table,
//                                      the good ones not yet committed to the target table
//   ingest.before-offset-commit        Kafka ingest: table commit done, Kafka's offsets not yet committed
//   ingest.overlapped-commit           ingest (append): a batch's files, manifests and metadata written, its
//                                      catalog swap next, while the next batch already holds records
//                                      (filling, or flushed behind it; reached only then)
//   compaction.after-data-files        compaction: a group's rewritten files written, nothing committed
//   compaction.mid-row-group-copy      compaction: a row group copied into an output file not yet published
//   compaction.after-manifests         compaction commit: added and rewritten manifests written
//   compaction.after-manifest-list     compaction commit: this attempt's manifest list written
//   expire.after-commit                expire-snapshots: snapshots removed from the table, no file deleted
//   expire.mid-delete                  expire-snapshots: before each file deletion (use #N for the Nth)
//   rewrite-manifests.after-manifests  rewrite-manifests: regrouped manifests written, no manifest list
//   rewrite-manifests.after-manifest-list  rewrite-manifests: this attempt's manifest list written
//   merge.after-files                  merge / delete: this attempt's data and delete files written, no manifest
//   merge.after-manifest-list          merge / delete: this attempt's manifest list written
//   wap.after-stage                    ingest with wap: a batch committed to the audit branch, not yet audited
//   wap.after-audit                    audit-and-publish: audit done, nothing published or quarantined
// The commit.* points are shared by every operation; `#N` picks the Nth commit of a process.
import { ValidationError } from './errors.ts';

export const FAULT_POINTS = [
  'append.after-data-files', 'append.after-manifest', 'append.after-manifest-list',
  'commit.after-metadata-file', 'commit.after-catalog-swap',
  'ingest.after-dead-letters', 'ingest.before-offset-commit', 'ingest.overlapped-commit',
  'compaction.after-data-files', 'compaction.mid-row-group-copy', 'compaction.after-manifests', 'compaction.after-manifest-list',
  'expire.after-commit', 'expire.mid-delete',
  'rewrite-manifests.after-manifests', 'rewrite-manifests.after-manifest-list',
  'merge.after-files', 'merge.after-manifest-list',
  'wap.after-stage', 'wap.after-audit',
] as const;
export type FaultPointName = typeof FAULT_POINTS[number];

interface Armed { readonly name: FaultPointName; readonly nth: number }

/** `name` or `name#N`; an unknown name is refused, so a typo cannot make a crash test pass vacuously. */
export function parseFaultSpec(spec: string): Armed {
  const m = /^([a-z-]+\.[a-z-]+)(?:#(\d+))?$/.exec(spec.trim());
  const name = m?.[1] as FaultPointName | undefined;
  if (!m || !name || !FAULT_POINTS.includes(name)) {
    throw new ValidationError(`FLOE_FAULT_AT='${spec}' is not a fault point (name or name#N); known: ${FAULT_POINTS.join(', ')}`);
  }
  const nth = m[2] === undefined ? 1 : Number(m[2]);
  if (nth < 1) throw new ValidationError(`FLOE_FAULT_AT='${spec}': N counts from 1`);
  return { name, nth };
}

const spec = process.env.FLOE_FAULT_AT;
const armed: Armed | undefined = spec ? parseFaultSpec(spec) : undefined;
let reached = 0;

/** Kills this process with SIGKILL when FLOE_FAULT_AT names `name` (at its Nth visit). */
export function faultPoint(name: FaultPointName): void {
  if (armed === undefined || armed.name !== name) return;
  if (++reached < armed.nth) return;
  process.kill(process.pid, 'SIGKILL');
}
