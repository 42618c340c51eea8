// The compaction planner: pure (file metadata + config in, a plan out, no I/O), with the
// option names and defaults of Iceberg's RewriteDataFiles / SizeBasedFileRewriter so a user of
// Spark's `rewrite_data_files` recognises every knob. The rewrite runner (next) executes the
// plan through the core's transaction.
import { ValidationError } from '../src/errors.ts';
import { intProperty, WRITE_TARGET_FILE_SIZE_BYTES } from '../src/spec/table-properties.ts';

/** A live data file as the compaction planner sees it. */
export interface PlannerFile {
  /** The file's location. */
  readonly path: string;
  /** The partition spec it was written with. */
  readonly specId: number;
  /** Stable key of the partition tuple (files are only grouped within one spec + partition). */
  readonly partitionKey: string;
  /** The partition as its folder is named (`ts_day=2026-03-01/region=eu`), for plans people read. */
  readonly partitionPath?: string;
  /** File size. */
  readonly sizeBytes: number;
  /** Rows in the file. */
  readonly recordCount: number;
  /** Position-delete files that apply to this file, and the rows they delete. */
  readonly deleteFileCount: number;
  /** Rows those position deletes remove. */
  readonly deletedRecordCount: number;
}

/** The order file groups are rewritten in (Iceberg's `rewrite-job-order`). */
export type RewriteJobOrder = 'none' | 'bytes-asc' | 'bytes-desc' | 'files-asc' | 'files-desc';

/** Which files compaction rewrites, under the names of Iceberg's rewrite_data_files options. */
export interface PlannerConfig {
  /** `target-file-size-bytes` (default: the table's `write.target-file-size-bytes`, else 1 GiB). */
  readonly targetFileSizeBytes: number;
  /** `min-file-size-bytes`: smaller files are rewritten (default 75% of the target). */
  readonly minFileSizeBytes: number;
  /** `max-file-size-bytes`: larger files are split (default 180% of the target). */
  readonly maxFileSizeBytes: number;
  /** `min-input-files`: a group needs at least this many files to be rewritten (default 5). */
  readonly minInputFiles: number;
  /** `max-file-group-size-bytes`: the most input one group (one commit unit) takes (default 100 GiB). */
  readonly maxFileGroupSizeBytes: number;
  /** `delete-file-threshold`: a file with this many delete files is rewritten (default: never). */
  readonly deleteFileThreshold: number;
  /** `delete-ratio-threshold`: a file whose deleted share of rows reaches this is rewritten (default 0.3). */
  readonly deleteRatioThreshold: number;
  /** `rewrite-job-order` (default `none`). */
  readonly rewriteJobOrder: RewriteJobOrder;
  /** Rewrite every file, even well-sized ones (Spark's `rewrite-all`). */
  readonly rewriteAll: boolean;
}

/** The compaction target when neither the caller nor the table sets one. Larger than
 * `write.target-file-size-bytes`' own default (512 MiB) on purpose: kept as the planner has always had it. */
export const DEFAULT_TARGET_FILE_SIZE_BYTES = 1024 * 1024 * 1024;

/** Iceberg's defaults: min 75% and max 180% of the target, 5 input files, 100 GiB groups,
 * delete-ratio 0.3; `target` falls back to the table's `write.target-file-size-bytes`. */
export function plannerConfig(opts: Partial<PlannerConfig> & { tableProperties?: Readonly<Record<string, string>> } = {}): PlannerConfig {
  const target = opts.targetFileSizeBytes ?? intProperty(opts.tableProperties ?? {}, WRITE_TARGET_FILE_SIZE_BYTES, DEFAULT_TARGET_FILE_SIZE_BYTES);
  const cfg: PlannerConfig = {
    targetFileSizeBytes: target,
    minFileSizeBytes: opts.minFileSizeBytes ?? Math.floor(target * 0.75),
    maxFileSizeBytes: opts.maxFileSizeBytes ?? Math.floor(target * 1.8),
    minInputFiles: opts.minInputFiles ?? 5,
    maxFileGroupSizeBytes: opts.maxFileGroupSizeBytes ?? 100 * 1024 * 1024 * 1024,
    deleteFileThreshold: opts.deleteFileThreshold ?? Number.MAX_SAFE_INTEGER,
    deleteRatioThreshold: opts.deleteRatioThreshold ?? 0.3,
    rewriteJobOrder: opts.rewriteJobOrder ?? 'none',
    rewriteAll: opts.rewriteAll ?? false,
  };
  if (!(cfg.targetFileSizeBytes > 0)) throw new ValidationError(`target-file-size-bytes must be positive, got ${cfg.targetFileSizeBytes}`);
  if (!(cfg.minFileSizeBytes < cfg.targetFileSizeBytes && cfg.targetFileSizeBytes < cfg.maxFileSizeBytes)) {
    throw new ValidationError(`need min-file-size-bytes (${cfg.minFileSizeBytes}) < target-file-size-bytes (${cfg.targetFileSizeBytes}) < max-file-size-bytes (${cfg.maxFileSizeBytes})`);
  }
  if (!(cfg.minInputFiles >= 1)) throw new ValidationError(`min-input-files must be at least 1, got ${cfg.minInputFiles}`);
  if (!(cfg.maxFileGroupSizeBytes >= cfg.targetFileSizeBytes)) throw new ValidationError('max-file-group-size-bytes must be at least target-file-size-bytes');
  return cfg;
}

/** Files of one partition rewritten together into new files. */
export interface RewriteGroup {
  /** The partition spec of the files. */
  readonly specId: number;
  /** Stable key of the partition tuple. */
  readonly partitionKey: string;
  /** The partition as its folder is named (from the files), when the caller gave it. */
  readonly partitionPath?: string;
  /** The input files. */
  readonly files: readonly PlannerFile[];
  /** Their total size. */
  readonly inputBytes: number;
  /** Their total rows. */
  readonly inputRecords: number;
  /** How many files the rewrite is expected to write. */
  readonly expectedOutputFiles: number;
}

/** A compaction plan: the groups to rewrite and their totals. */
export interface RewritePlan {
  /** The file groups, in `rewrite-job-order`. */
  readonly groups: readonly RewriteGroup[];
  /** Input files over all groups. */
  readonly totalInputFiles: number;
  /** Input bytes over all groups. */
  readonly totalInputBytes: number;
  /** Expected output files over all groups. */
  readonly totalExpectedOutputFiles: number;
}

function tooManyDeletes(f: PlannerFile, cfg: PlannerConfig): boolean {
  return f.deleteFileCount >= cfg.deleteFileThreshold
    || (f.recordCount > 0 && f.deletedRecordCount / f.recordCount >= cfg.deleteRatioThreshold);
}

function selected(f: PlannerFile, cfg: PlannerConfig): boolean {
  return cfg.rewriteAll || f.sizeBytes < cfg.minFileSizeBytes || f.sizeBytes > cfg.maxFileSizeBytes || tooManyDeletes(f, cfg);
}

/** Output files for `bytes` of input (Iceberg's SizeBasedFileRewriter.numOutputFiles): a small
 * remainder is spread over the other files unless that makes them too large. */
export function expectedOutputFiles(bytes: number, cfg: PlannerConfig): number {
  if (bytes < cfg.targetFileSizeBytes) return 1;
  const withRemainder = Math.ceil(bytes / cfg.targetFileSizeBytes);
  const withoutRemainder = Math.floor(bytes / cfg.targetFileSizeBytes);
  const remainder = bytes - withoutRemainder * cfg.targetFileSizeBytes;
  if (remainder > cfg.minFileSizeBytes) return withRemainder;
  const avg = bytes / withoutRemainder;
  return avg < Math.min(1.1 * cfg.targetFileSizeBytes, cfg.maxFileSizeBytes) ? withoutRemainder : withRemainder;
}

/** First-fit-decreasing packing of files into bins of at most `capacity` bytes. */
function binPack(files: readonly PlannerFile[], capacity: number): PlannerFile[][] {
  const bins: { files: PlannerFile[]; bytes: number }[] = [];
  for (const f of [...files].sort((a, b) => b.sizeBytes - a.sizeBytes || (a.path < b.path ? -1 : 1))) {
    const bin = bins.find((b) => b.bytes + f.sizeBytes <= capacity);
    if (bin) { bin.files.push(f); bin.bytes += f.sizeBytes; } else bins.push({ files: [f], bytes: f.sizeBytes });
  }
  return bins.map((b) => b.files);
}

/** Whether a packed group is worth rewriting (Spark's rules): enough input files, more
 * content than one target file, a file that is too large, or files with too many deletes. */
function worthRewriting(group: readonly PlannerFile[], cfg: PlannerConfig): boolean {
  if (cfg.rewriteAll) return true;
  const bytes = group.reduce((s, f) => s + f.sizeBytes, 0);
  return (group.length > 1 && group.length >= cfg.minInputFiles)
    || (group.length > 1 && bytes > cfg.targetFileSizeBytes)
    || group.some((f) => f.sizeBytes > cfg.maxFileSizeBytes || tooManyDeletes(f, cfg));
}

export function planRewriteGroups(files: readonly PlannerFile[], cfg: PlannerConfig): RewritePlan {
  const byPartition = new Map<string, PlannerFile[]>();
  for (const f of files) {
    if (!selected(f, cfg)) continue;
    const key = `${f.specId}\u0000${f.partitionKey}`;
    const list = byPartition.get(key) ?? [];
    list.push(f);
    byPartition.set(key, list);
  }
  const groups: RewriteGroup[] = [];
  for (const list of byPartition.values()) {
    for (const bin of binPack(list, cfg.maxFileGroupSizeBytes)) {
      if (!worthRewriting(bin, cfg)) continue;
      const inputBytes = bin.reduce((s, f) => s + f.sizeBytes, 0);
      groups.push({
        specId: bin[0]!.specId, partitionKey: bin[0]!.partitionKey,
        ...(bin[0]!.partitionPath !== undefined ? { partitionPath: bin[0]!.partitionPath } : {}), files: bin, inputBytes,
        inputRecords: bin.reduce((s, f) => s + f.recordCount, 0),
        expectedOutputFiles: expectedOutputFiles(inputBytes, cfg),
      });
    }
  }
  const order: Record<RewriteJobOrder, (a: RewriteGroup, b: RewriteGroup) => number> = {
    'none': () => 0,
    'bytes-asc': (a, b) => a.inputBytes - b.inputBytes,
    'bytes-desc': (a, b) => b.inputBytes - a.inputBytes,
    'files-asc': (a, b) => a.files.length - b.files.length,
    'files-desc': (a, b) => b.files.length - a.files.length,
  };
  groups.sort(order[cfg.rewriteJobOrder]);
  return {
    groups,
    totalInputFiles: groups.reduce((s, g) => s + g.files.length, 0),
    totalInputBytes: groups.reduce((s, g) => s + g.inputBytes, 0),
    totalExpectedOutputFiles: groups.reduce((s, g) => s + g.expectedOutputFiles, 0),
  };
}
