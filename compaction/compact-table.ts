// One compaction run of one table branch (Iceberg's RewriteDataFiles, binpack): scan the head,
// plan groups, rewrite each group with bounded memory, and commit `replace` snapshots that are
// validated from the starting snapshot — so it runs next to streaming writers without locks.
// With `partial-progress.enabled` the groups are committed in up to
// `partial-progress.max-commits` commits, so a conflict costs only its own groups.
// Deletes are applied as the files are rewritten — position deletes and equality deletes alike
// (the outputs keep the starting sequence number, which no older delete applies to) — and each
// commit drops the delete files that no remaining data file needs (obsolete-delete-files.ts).
import PQueue from 'p-queue';
import { errorMessage, FloeError } from '../src/errors.ts';
import { faultPoint } from '../src/fault-points.ts';
import { deleteAll } from '../src/io/file-io.ts';
import { isLocalLocation } from '../src/io/local-file-io.ts';
import { EntryStatus, ManifestContent, type DataFile } from '../src/spec/data-file.ts';
import { buildDeleteIndex } from '../src/reader/delete-index.ts';
import { partitionKey, type PartitionSpec } from '../src/spec/partition-spec.ts';
import { schemaToJson } from '../src/spec/schema.ts';
import { branchHead, currentSchema, MAIN_BRANCH, specById, type Snapshot } from '../src/spec/table-metadata.ts';
import type { Catalog } from '../src/table/catalog.ts';
import type { TableIdentifier } from '../src/table/identifier.ts';
import { commitWithRetry, type CommitHooks } from '../src/transaction/commit-with-retry.ts';
import { manifestEntries, snapshotManifests } from '../src/transaction/table-manifests.ts';
import { obsoleteDeleteFiles } from './obsolete-delete-files.ts';
import { partitionPathNamer } from './partition-names.ts';
import { plannerConfig, planRewriteGroups, type PlannerConfig, type PlannerFile, type RewriteGroup, type RewritePlan } from './planner.ts';
import { ReplaceDataFiles, RewriteValidationError } from '../src/transaction/replace-data-files.ts';
import { runRewriteJob, type RewriteInput, type RewriteJob } from './rewrite-data-files.ts';
import { RewritePool } from './rewrite-pool.ts';
import { rewriteSpliced, splicedRewriteApplies } from './spliced-rewrite.ts';

/** Options of {@link compactTable}: which files to rewrite (Iceberg's rewrite_data_files option
 * names, in camelCase) and how. */
export interface CompactOptions extends Partial<PlannerConfig> {
  /** The branch to compact (default `main`). */
  readonly branch?: string;
  /** Plan only: report the groups, write and commit nothing. */
  readonly dryRun?: boolean;
  /** Rewriters at once (default 1): this thread plus `concurrency − 1` worker threads, each with
   * its own parquet-wasm encoder and heap (parquet-wasm is single-threaded). Up to this many
   * groups are rewritten at once (Spark's `max-concurrent-file-group-rewrites`), and a group of
   * small files is also cut into slices encoded on all of them and spliced into one output
   * (spliced-rewrite.ts), so one output file no longer means one core. */
  readonly concurrency?: number;
  /** `partial-progress.enabled` (default false: one commit for the whole run). */
  readonly partialProgress?: boolean;
  /** `partial-progress.max-commits` (default 10). */
  readonly partialProgressMaxCommits?: number;
  /** Row-group bound of the output in Arrow bytes (see rewrite-data-files.ts). */
  readonly rowGroupSizeBytes?: number;
  /** Smallest compressed input row group copied into the output byte for byte instead of
   * decoded and encoded (default: half of `write.parquet.row-group-size-bytes`; 0 turns it off). */
  readonly copyMinRowGroupBytes?: number;
  /** Progress: planned, input bytes read, group rewritten, committed, commit failed. */
  readonly onEvent?: (e: CompactionEvent) => void;
  /** Callbacks around each commit attempt. */
  readonly commitHooks?: CommitHooks;
}

/** A progress event of {@link compactTable}. */
export type CompactionEvent =
  | { type: 'planned'; table: string; plan: RewritePlan }
  | { type: 'input-bytes'; bytes: number }
  | { type: 'group-rewritten'; group: RewriteGroup; outputFiles: number; outputBytes: number; rowsDeleted: number; copiedRowGroups: number; copiedBytes: number;
    /** Slices the group was cut into and encoded on several workers at once (0: one worker). */
    splicedSlices: number }
  | { type: 'committed'; snapshotId: bigint; groups: number; attempts: number; removedDeleteFiles: number }
  | { type: 'commit-failed'; groups: number; reason: string };

/** What a compaction did (or, in a dry run, would do). */
export interface CompactReport {
  /** The table (`ns.table`). */
  readonly table: string;
  /** Whether this was a dry run. */
  readonly dryRun: boolean;
  /** The plan. */
  readonly plan: RewritePlan;
  /** Groups rewritten and committed. */
  readonly groups: number;
  /** Groups whose commit was refused (a concurrent delete touched their files); their outputs were removed. */
  readonly failedGroups: number;
  /** Data files replaced. */
  readonly rewrittenFiles: number;
  /** Data files written. */
  readonly addedFiles: number;
  /** Bytes replaced. */
  readonly rewrittenBytes: number;
  /** Bytes written. */
  readonly addedBytes: number;
  /** Input row groups copied into the outputs byte for byte (not decoded), and their bytes. */
  readonly copiedRowGroups: number;
  readonly copiedBytes: number;
  /** Delete files dropped because no remaining data file needed them. */
  readonly removedDeleteFiles: number;
  /** Snapshots committed (more than one with partial progress). */
  readonly commits: number;
  /** Commit attempts that met a concurrent change and were re-based (retries). */
  readonly conflicts: number;
  /** Wall time. */
  readonly durationMs: number;
}

interface LiveFile { readonly file: DataFile; readonly sequenceNumber: bigint }

async function scanBranch(catalog: Catalog, head: Snapshot): Promise<{ data: LiveFile[]; deletes: LiveFile[] }> {
  const data: LiveFile[] = [];
  const deletes: LiveFile[] = [];
  for (const m of await snapshotManifests(catalog.io, head)) {
    for (const e of await manifestEntries(catalog.io, m)) {
      if (e.status === EntryStatus.Deleted) continue;
      const live = { file: e.dataFile, sequenceNumber: e.sequenceNumber ?? 0n };
      (m.content === ManifestContent.Data ? data : deletes).push(live);
    }
  }
  return { data, deletes };
}

/**
 * Compacts a table's branch (Iceberg's rewrite_data_files, bin-pack): plans groups of small (or
 * oversized, or delete-heavy) data files per partition, rewrites each group into files of about
 * `targetFileSizeBytes` with the deletes applied, and commits a `replace` snapshot that readers
 * see atomically. Concurrent appends are fine; a concurrent delete of rewritten files fails only
 * the groups it touched (their new files are removed). Row content never changes.
 *
 * @throws {@link floe!ValidationError} for inconsistent sizes; {@link floe!NotFoundError} for a missing
 * table or branch; {@link floe!CommitConflictError} when retries are spent.
 * @example
 * ```ts
 * import { compactTable } from 'floe/compaction';
 *
 * const report = await compactTable(catalog, parseTableIdentifier('shop.orders'), {
 *   targetFileSizeBytes: 128 * 1024 * 1024,
 *   minInputFiles: 2,
 * });
 * console.log(`${report.rewrittenFiles} files → ${report.addedFiles}`);
 * ```
 */
export async function compactTable(catalog: Catalog, id: TableIdentifier, opts: CompactOptions = {}): Promise<CompactReport> {
  const started = Date.now();
  const name = [...id.namespace, id.name].join('.');
  const branch = opts.branch ?? MAIN_BRANCH;
  const table = await catalog.loadTable(id);
  const meta = table.metadata;
  const cfg = plannerConfig({ ...opts, tableProperties: meta.properties });
  const head = branchHead(meta, branch);
  const empty: RewritePlan = { groups: [], totalInputFiles: 0, totalInputBytes: 0, totalExpectedOutputFiles: 0 };
  const report = (plan: RewritePlan, r: Partial<CompactReport> = {}): CompactReport => ({
    table: name, dryRun: opts.dryRun ?? false, plan, groups: 0, failedGroups: 0, rewrittenFiles: 0, addedFiles: 0,
    rewrittenBytes: 0, addedBytes: 0, copiedRowGroups: 0, copiedBytes: 0, removedDeleteFiles: 0, commits: 0, conflicts: 0, durationMs: Date.now() - started, ...r,
  });
  if (!head) return report(empty);

  const { data, deletes } = await scanBranch(catalog, head);
  // Deletes that apply to a data file, by the spec's scan-planning rules (delete-index.ts).
  const deleteIndex = await buildDeleteIndex(catalog.io, deletes);
  const specOf = (specId: number): PartitionSpec => specById(meta, specId);
  const deletedPositions = new Map<string, number[]>();
  const plannerFiles: PlannerFile[] = [];
  const byPath = new Map<string, LiveFile>();
  const partitionPathOf = partitionPathNamer(meta);
  for (const f of data) {
    const applicable = [
      ...deleteIndex.positionDeleteFiles(f.file, f.sequenceNumber, specOf),
      ...deleteIndex.equalityDeleteFiles(f.file, f.sequenceNumber, specOf),
    ];
    const positions = await deleteIndex.deletedPositions(f.file, f.sequenceNumber, specOf);
    if (positions) deletedPositions.set(f.file.filePath, [...positions].sort((a, b) => a - b));
    byPath.set(f.file.filePath, f);
    plannerFiles.push({
      path: f.file.filePath, specId: f.file.specId, partitionKey: partitionKey(f.file.partition),
      partitionPath: partitionPathOf(f.file.specId, f.file.partition),
      sizeBytes: Number(f.file.fileSizeInBytes), recordCount: Number(f.file.recordCount),
      // Rows of equality deletes are only known by reading the file: they count as files.
      deleteFileCount: applicable.length, deletedRecordCount: positions?.size ?? 0,
    });
  }
  const plan = planRewriteGroups(plannerFiles, cfg);
  opts.onEvent?.({ type: 'planned', table: name, plan });
  if (opts.dryRun || plan.groups.length === 0) return report(plan);

  const schema = currentSchema(meta);
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const queue = new PQueue({ concurrency });
  // More than one group at a time runs on worker threads (one WebAssembly encoder per core);
  // worker threads open local files themselves, so other storage rewrites in this thread.
  // Fewer groups than workers: a group of small files is also cut into slices encoded on
  // several workers and spliced into the same output files (spliced-rewrite.ts).
  const spread = plan.groups.length < concurrency ? concurrency : 1;
  // This thread is one of the runners (its encoder is warm; concurrency 2 starts one worker).
  const pool = concurrency > 1 && isLocalLocation(meta.location) ? new RewritePool(concurrency, catalog.io) : undefined;
  const maxCommits = opts.partialProgress ? Math.max(1, opts.partialProgressMaxCommits ?? 10) : 1;
  const groupsPerCommit = Math.ceil(plan.groups.length / maxCommits);
  let pendingGroups: { group: RewriteGroup; removed: DataFile[]; added: DataFile[]; copiedRowGroups: number; copiedBytes: number }[] = [];
  const totals = { groups: 0, failedGroups: 0, rewrittenFiles: 0, addedFiles: 0, rewrittenBytes: 0, addedBytes: 0, copiedRowGroups: 0, copiedBytes: 0, removedDeleteFiles: 0, commits: 0, conflicts: 0 };
  // Data files this run's landed commits removed: delete files are obsolete once every data
  // file they apply to is in here (a failed commit's files stay live, and so do their deletes).
  const committedRemoved = new Set<string>();
  const droppedDeletes = new Set<string>();
  let commitChain: Promise<void> = Promise.resolve();
  let fatal: unknown;

  const commit = async (batch: typeof pendingGroups): Promise<void> => {
    const removed = batch.flatMap((b) => b.removed);
    const added = batch.flatMap((b) => b.added);
    if (fatal) {
      // An earlier failure stops the run: these outputs are never committed.
      await deleteAll(catalog.io, added.map((f) => f.filePath));
      return;
    }
    try {
      const removedPaths = new Set([...committedRemoved, ...removed.map((f) => f.filePath)]);
      const removedDeletes = (await obsoleteDeleteFiles(catalog.io, { data, deletes, index: deleteIndex, specOf, removedPaths }))
        .filter((d) => !droppedDeletes.has(d.filePath));
      const r = await commitWithRetry(catalog, id, new ReplaceDataFiles(catalog.io, {
        branch, startingSnapshot: head, removed, added, removedDeletes,
        summary: { 'floe.compaction.groups': String(batch.length) },
      }), { hooks: { ...opts.commitHooks, onRetry: (attempt, err) => { totals.conflicts++; opts.commitHooks?.onRetry?.(attempt, err); } } });
      totals.commits++;
      for (const f of removed) committedRemoved.add(f.filePath);
      // The landed snapshot's own count: a delete file another commit took first is not in it.
      const removedDeleteFiles = Number(r.snapshot.summary['removed-delete-files'] ?? 0);
      for (const d of removedDeletes) droppedDeletes.add(d.filePath);
      totals.removedDeleteFiles += removedDeleteFiles;
      totals.groups += batch.length;
      totals.rewrittenFiles += removed.length;
      totals.addedFiles += added.length;
      totals.rewrittenBytes += removed.reduce((s, f) => s + Number(f.fileSizeInBytes), 0);
      totals.addedBytes += added.reduce((s, f) => s + Number(f.fileSizeInBytes), 0);
      totals.copiedRowGroups += batch.reduce((s, b) => s + b.copiedRowGroups, 0);
      totals.copiedBytes += batch.reduce((s, b) => s + b.copiedBytes, 0);
      opts.onEvent?.({ type: 'committed', snapshotId: r.snapshot.snapshotId, groups: batch.length, attempts: r.attempts, removedDeleteFiles });
    } catch (err) {
      // The commit loop already deleted its manifests; the rewritten data files are ours to drop.
      await deleteAll(catalog.io, added.map((f) => f.filePath));
      totals.failedGroups += batch.length;
      opts.onEvent?.({ type: 'commit-failed', groups: batch.length, reason: err instanceof Error ? err.message : String(err) });
      if (!(err instanceof RewriteValidationError) || !opts.partialProgress) throw err;
    }
  };

  const rewriteGroup = async (group: RewriteGroup): Promise<void> => {
    if (fatal) return;
    const inputs: RewriteInput[] = [];
    for (const pf of group.files) {
      const live = byPath.get(pf.path)!;
      const positions = deletedPositions.get(pf.path);
      // Key sets are read when a group needs them (the index reads each delete file once).
      const equality = await deleteIndex.equalityDeletes(live.file, live.sequenceNumber, specOf);
      inputs.push({
        file: live.file, ...(positions ? { deletedPositions: positions } : {}),
        ...(equality.length > 0 ? { equalityDeletes: equality } : {}),
      });
    }
    const job: RewriteJob = {
      inputs, schemaJson: schemaToJson(schema), spec: specById(meta, group.specId), location: meta.location,
      properties: meta.properties, planner: cfg, ...(opts.rowGroupSizeBytes ? { rowGroupSizeBytes: opts.rowGroupSizeBytes } : {}),
      ...(opts.copyMinRowGroupBytes !== undefined ? { copyMinRowGroupBytes: opts.copyMinRowGroupBytes } : {}),
    };
    const onInputFileDone = (bytes: number): void => opts.onEvent?.({ type: 'input-bytes', bytes });
    let reported = 0;
    const spliced = pool && splicedRewriteApplies(job, spread)
      ? await rewriteSpliced(catalog.io, job, (slice) => pool.encodeSlice(job, slice), { slots: pool.size, spread, onInputFileDone: (bytes) => { reported += bytes; onInputFileDone(bytes); } })
      : undefined;
    // A spliced attempt handed back (inputs of two schemas) already reported some bytes: the
    // rewrite that follows reports only the rest, so progress still adds up to the group.
    const rest = (bytes: number): void => {
      const skip = Math.min(reported, bytes);
      reported -= skip;
      if (bytes > skip) onInputFileDone(bytes - skip);
    };
    const result = spliced ?? (pool ? await pool.run(job, rest) : await runRewriteJob(catalog.io, job, rest));
    faultPoint('compaction.after-data-files');
    opts.onEvent?.({ type: 'group-rewritten', group, outputFiles: result.files.length, outputBytes: result.files.reduce((s, f) => s + Number(f.fileSizeInBytes), 0), rowsDeleted: result.rowsDeleted, copiedRowGroups: result.copiedRowGroups, copiedBytes: result.copiedBytes, splicedSlices: spliced?.slices ?? 0 });
    pendingGroups.push({ group, removed: inputs.map((i) => i.file), added: [...result.files], copiedRowGroups: result.copiedRowGroups, copiedBytes: result.copiedBytes });
    if (pendingGroups.length >= groupsPerCommit) {
      const batch = pendingGroups;
      pendingGroups = [];
      commitChain = commitChain.then(() => commit(batch)).catch((err) => { fatal ??= err; });
    }
  };

  try {
    await Promise.all(plan.groups.map((g) => queue.add(() => rewriteGroup(g).catch((err) => { fatal ??= err; }))));
    if (pendingGroups.length > 0 && !fatal) {
      const batch = pendingGroups;
      pendingGroups = [];
      commitChain = commitChain.then(() => commit(batch)).catch((err) => { fatal ??= err; });
    }
    await commitChain;
  } finally {
    await pool?.close();
    // Outputs of groups that never reached a commit (a failure stopped the run).
    if (pendingGroups.length > 0) await deleteAll(catalog.io, pendingGroups.flatMap((b) => b.added.map((f) => f.filePath)));
  }
  if (fatal) {
    if (totals.commits === 0) throw fatal;
    // With partial progress some groups landed before the failure: say so, or the error
    // reads as if the table were untouched.
    const kind = fatal instanceof FloeError ? fatal.kind : 'io';
    throw new FloeError(kind, `${errorMessage(fatal)} (before this, ${totals.commits} commit(s) had landed: ${totals.groups} group(s), `
      + `${totals.rewrittenFiles} file(s) replaced by ${totals.addedFiles})`, { cause: fatal });
  }
  return report(plan, totals);
}
