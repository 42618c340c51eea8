// A compaction group's rewrite as plain data (RewriteJob), so it can run in this thread or on a
// worker thread; the rewriting itself is src/writer/row-group-copy-rewriter.ts (large row groups
// copied as they are) over src/writer/data-file-rewriter.ts (decode and encode).
import type { FileIO } from '../src/io/file-io.ts';
import type { PartitionSpec } from '../src/spec/partition-spec.ts';
import { schemaFromJson } from '../src/spec/schema.ts';
import { rewriteDataFiles, type RewriteInput, type RewriteResult } from '../src/writer/data-file-rewriter.ts';
import { rewriteDataFilesWithCopies, type CopyingRewriteResult } from '../src/writer/row-group-copy-rewriter.ts';
import { expectedOutputFiles, type PlannerConfig } from './planner.ts';

export { rewriteDataFiles, type RewriteInput, type RewriteResult };

/** A group's rewrite as plain data, so it can run in this thread or in a worker thread. */
export interface RewriteJob {
  readonly inputs: readonly RewriteInput[];
  readonly schemaJson: Record<string, unknown>;
  readonly spec: PartitionSpec;
  readonly location: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly planner: PlannerConfig;
  readonly rowGroupSizeBytes?: number;
  /** Smallest compressed input row group copied byte for byte (default: half of
   * `write.parquet.row-group-size-bytes`; 0 turns copying off). */
  readonly copyMinRowGroupBytes?: number;
}

export function runRewriteJob(io: FileIO, job: RewriteJob, onInputFileDone?: (bytes: number) => void): Promise<CopyingRewriteResult> {
  const cfg = job.planner;
  return rewriteDataFilesWithCopies(job.inputs, {
    io, schema: schemaFromJson(job.schemaJson), spec: job.spec, location: job.location, properties: job.properties,
    targetFileSizeBytes: cfg.targetFileSizeBytes,
    // Spread each run evenly over its expected output files (Spark's split size), so a
    // 3.05 GiB group becomes three ~1.02 GiB files rather than three of 1 GiB and a crumb.
    splitSize: (bytes) => Math.min(Math.ceil(bytes / expectedOutputFiles(bytes, cfg)), cfg.maxFileSizeBytes),
    ...(job.rowGroupSizeBytes ? { rowGroupSizeBytes: job.rowGroupSizeBytes } : {}),
    ...(onInputFileDone ? { onInputFileDone } : {}),
    ...(job.copyMinRowGroupBytes !== undefined ? { copyMinRowGroupBytes: job.copyMinRowGroupBytes } : {}),
  });
}
