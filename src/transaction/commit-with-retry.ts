// The one place that commits table updates to a catalog: optimistic concurrency with Iceberg's
// `commit.retry.*` properties, for every kind of update (snapshots, snapshot expiry, schema
// changes, keys). A conflict reloads the table and re-runs the action on the new base; an
// update that already landed (its answer lost) is recognised and never redone. Files of a
// definitely failed commit are deleted; files of an unknown outcome are kept.
import { CommitConflictError, CommitStateUnknownError, FloeError, ValidationError } from '../errors.ts';
import { deleteAll } from '../io/file-io.ts';
import { snapshotById, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';
import {
  COMMIT_MAX_RETRY_WAIT_MS, COMMIT_MIN_RETRY_WAIT_MS, COMMIT_NUM_RETRIES, COMMIT_TOTAL_RETRY_TIME_MS, intProperty,
} from '../spec/table-properties.ts';
import type { TableRequirement, TableUpdate } from '../spec/table-updates.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import type { SnapshotAction } from './snapshot-action.ts';

/** How often and how long a commit is retried after a conflict; by default read from the table's
 * `commit.retry.*` properties with Iceberg's defaults. */
export interface RetryPolicy {
  /** `commit.retry.num-retries` (default 4). */
  readonly numRetries: number;
  /** `commit.retry.min-wait-ms` (default 100). */
  readonly minWaitMs: number;
  /** `commit.retry.max-wait-ms` (default 60,000). */
  readonly maxWaitMs: number;
  /** `commit.retry.total-timeout-ms` (default 1,800,000). */
  readonly totalTimeoutMs: number;
}

/** Iceberg's `commit.retry.*` table properties with Iceberg's defaults. */
export function retryPolicy(m: TableMetadata): RetryPolicy {
  return {
    numRetries: intProperty(m, COMMIT_NUM_RETRIES),
    minWaitMs: intProperty(m, COMMIT_MIN_RETRY_WAIT_MS),
    maxWaitMs: intProperty(m, COMMIT_MAX_RETRY_WAIT_MS),
    totalTimeoutMs: intProperty(m, COMMIT_TOTAL_RETRY_TIME_MS),
  };
}

/** One attempt of a table update, built on a base. */
export interface PreparedUpdate {
  readonly updates: readonly TableUpdate[];
  readonly requirements: readonly TableRequirement[];
  /** Files written for this attempt only: deleted when the attempt definitely failed. */
  readonly attemptFiles: readonly string[];
  /** Writes of files the updates reference that may still be in flight (the manifests and
   * manifest list, written beside the metadata file): the catalog moves the pointer only once
   * it resolves, and not at all if it rejects. Settled before any of them is deleted. */
  readonly written?: Promise<void>;
}

/** Any change to a table's metadata, committed through `commitUpdateWithRetry`. */
export interface TableUpdateAction {
  /** What is committed, for messages ("snapshot 123", "snapshot expiry"). */
  readonly description?: string;
  /** Builds the attempt on `base`; re-run on a fresh base after every conflict. `undefined`:
   * the base needs no change (e.g. another writer made it already), nothing is committed. */
  prepare(base: LoadedTable, attempt: number): Promise<PreparedUpdate | undefined>;
  /** Whether this update is already in `table` (a commit whose answer was lost). */
  landed?(table: LoadedTable): boolean;
  /** Files written once for every attempt, deleted if the commit fails for good. */
  sharedFiles?(): readonly string[];
}

export interface UpdateResult {
  readonly table: LoadedTable;
  readonly attempts: number;
  /** False when `prepare` found nothing to change. */
  readonly committed: boolean;
  readonly prepared?: PreparedUpdate;
}

/** Callbacks around each commit attempt, for logging and tests. */
export interface CommitHooks {
  /** Called before each attempt's pointer swap (tests use it to inject failures). */
  beforeSwap?: (attempt: number) => Promise<void> | void;
  /** Called when an attempt met a conflict and the commit will be retried on the reloaded table. */
  onRetry?: (attempt: number, err: Error) => void;
}

/** Options of a metadata commit (branches, tags, retention). */
export interface CommitOptions {
  /** The table as already loaded (saves a load for the first attempt). */
  readonly base?: LoadedTable;
  /** Callbacks around each attempt. */
  readonly hooks?: CommitHooks;
  /** Overrides the table's `commit.retry.*` properties. */
  readonly policy?: RetryPolicy;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function backoffMs(p: RetryPolicy, attempt: number): number {
  const exp = Math.min(p.maxWaitMs, p.minWaitMs * 2 ** (attempt - 1));
  // Full jitter keeps concurrent writers from retrying in lock step.
  return Math.floor(exp / 2 + Math.random() * (exp / 2));
}

export async function commitUpdateWithRetry(catalog: Catalog, id: TableIdentifier, action: TableUpdateAction, opts: CommitOptions = {}): Promise<UpdateResult> {
  let table = opts.base ?? await catalog.loadTable(id);
  const policy = opts.policy ?? retryPolicy(table.metadata);
  const started = Date.now();
  let unknownOutcome = false;
  let lastPrepared: PreparedUpdate | undefined;
  for (let attempt = 1; ; attempt++) {
    let attemptFiles: readonly string[] = [];
    let written: Promise<void> | undefined;
    try {
      const prepared = await action.prepare(table, attempt);
      if (!prepared) {
        // Nothing to change after all (e.g. another writer made the change during our retry):
        // files an earlier attempt wrote for this update are referenced by nothing — unless an
        // attempt's outcome is unknown (it may have landed under another id; keep them then).
        if (attempt > 1 && !unknownOutcome) await deleteAll(catalog.io, action.sharedFiles?.() ?? []);
        return { table, attempts: attempt, committed: false };
      }
      lastPrepared = prepared;
      attemptFiles = prepared.attemptFiles;
      written = prepared.written;
      await opts.hooks?.beforeSwap?.(attempt);
      const committed = await catalog.commitTable(id, prepared.requirements, prepared.updates, written ? { filesWritten: written } : {});
      return { table: committed, attempts: attempt, committed: true, prepared };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      // No file of the attempt is deleted while its write may still link it into place.
      await written?.catch(() => undefined);
      const retryable = error instanceof FloeError && error.retryable;
      if (error instanceof CommitStateUnknownError) unknownOutcome = true;
      else if (retryable) await deleteAll(catalog.io, attemptFiles);
      // Whatever happened, look first whether this update is already in the table — except after
      // a definite conflict with no earlier attempt of unknown outcome: the catalog refused this
      // very commit, so nothing of ours can have landed, and the table is loaded once, after the
      // backoff, instead of twice (under contention most failed attempts are such conflicts).
      const definiteConflict = error instanceof CommitConflictError && !unknownOutcome;
      const reloaded = definiteConflict ? undefined : await catalog.loadTable(id).catch(() => undefined);
      if (reloaded) {
        if (action.landed?.(reloaded)) return { table: reloaded, attempts: attempt, committed: true, ...(lastPrepared ? { prepared: lastPrepared } : {}) };
        table = reloaded;
      }
      const outOfTime = Date.now() - started > policy.totalTimeoutMs;
      const canRetry = definiteConflict || ((retryable || error instanceof CommitStateUnknownError) && reloaded !== undefined);
      if (!canRetry || attempt > policy.numRetries || outOfTime) {
        if (unknownOutcome) {
          throw error instanceof CommitStateUnknownError ? error
            : new CommitStateUnknownError(`commit of ${action.description ?? 'the table update'} has an unknown outcome; its files were kept: ${error.message}`, { cause: error });
        }
        // Definitely failed: nothing of ours is referenced, so remove every file we wrote.
        await deleteAll(catalog.io, [...attemptFiles, ...(action.sharedFiles?.() ?? [])]);
        if (error instanceof CommitConflictError && attempt > policy.numRetries) {
          throw new CommitConflictError(`commit failed after ${attempt} attempts (commit.retry.num-retries=${policy.numRetries}): ${error.message}`, { cause: error });
        }
        throw error;
      }
      opts.hooks?.onRetry?.(attempt, error);
      await sleep(backoffMs(policy, attempt));
      // The next attempt starts from the head as it is after the wait (Java's SnapshotProducer
      // refreshes at the start of every attempt): the copy loaded before the wait is stale by
      // then, and an attempt built on it fails again if anyone committed meanwhile, so a slow
      // writer (a MERGE re-plans each attempt) starved behind faster ones.
      const fresh = await catalog.loadTable(id).catch(() => undefined);
      if (fresh) {
        // An unknown outcome can still land late.
        if (action.landed?.(fresh)) return { table: fresh, attempts: attempt, committed: true, ...(lastPrepared ? { prepared: lastPrepared } : {}) };
        table = fresh;
      }
    }
  }
}

/** What a committed write produced. */
export interface CommitResult {
  /** The table after the commit. */
  readonly table: LoadedTable;
  /** The snapshot the commit added. */
  readonly snapshot: Snapshot;
  /** Commit attempts (1 = no conflict). */
  readonly attempts: number;
}

/** Commits a snapshot-producing action; a snapshot found in the table after a lost answer is
 * recognised by its id (fixed across attempts) and returned, never committed twice. */
export async function commitWithRetry(catalog: Catalog, id: TableIdentifier, action: SnapshotAction, opts: CommitOptions = {}): Promise<CommitResult> {
  const r = await commitSnapshotIfChanged(catalog, id, action, opts);
  if (!r.snapshot) throw new ValidationError(`snapshot ${action.snapshotId} had nothing to commit`);
  return { table: r.table, snapshot: r.snapshot, attempts: r.attempts };
}

/** Like `commitWithRetry` for actions that may find nothing to change on the final base
 * (`snapshot` undefined then, and nothing was committed). */
export async function commitSnapshotIfChanged(catalog: Catalog, id: TableIdentifier, action: SnapshotAction, opts: CommitOptions = {}): Promise<{ table: LoadedTable; snapshot: Snapshot | undefined; attempts: number }> {
  let lastSnapshot: Snapshot | undefined;
  const result = await commitUpdateWithRetry(catalog, id, {
    description: `snapshot ${action.snapshotId}`,
    prepare: async (base, attempt) => {
      const prepared = await action.prepare(base, attempt);
      lastSnapshot = prepared?.snapshot;
      return prepared;
    },
    landed: (t) => snapshotById(t.metadata, action.snapshotId) !== undefined,
    sharedFiles: () => action.sharedFiles(),
  }, opts);
  if (!result.committed) return { table: result.table, snapshot: undefined, attempts: result.attempts };
  const snapshot = snapshotById(result.table.metadata, action.snapshotId) ?? lastSnapshot;
  if (!snapshot) throw new CommitStateUnknownError(`snapshot ${action.snapshotId} was committed but is not in the table`);
  return { table: result.table, snapshot, attempts: result.attempts };
}
