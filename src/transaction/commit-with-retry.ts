// The one place that commits snapshots to a catalog: optimistic concurrency with Iceberg's
// retry properties. A conflict reloads the table and re-runs the action on the new base; a
// snapshot that already landed (its answer lost) is recognised by its id and never redone.
// Files of a definitely failed commit are deleted; files of an unknown outcome are kept.
import { CommitConflictError, CommitStateUnknownError, FloeError } from '../errors.ts';
import { deleteAll } from '../io/file-io.ts';
import { propertyInt, snapshotById, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import type { SnapshotAction } from './snapshot-action.ts';

export interface RetryPolicy {
  readonly numRetries: number;
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
  readonly totalTimeoutMs: number;
}

/** Iceberg's `commit.retry.*` table properties with Iceberg's defaults. */
export function retryPolicy(m: TableMetadata): RetryPolicy {
  return {
    numRetries: propertyInt(m, 'commit.retry.num-retries', 4),
    minWaitMs: propertyInt(m, 'commit.retry.min-wait-ms', 100),
    maxWaitMs: propertyInt(m, 'commit.retry.max-wait-ms', 60_000),
    totalTimeoutMs: propertyInt(m, 'commit.retry.total-timeout-ms', 1_800_000),
  };
}

export interface CommitResult {
  readonly table: LoadedTable;
  readonly snapshot: Snapshot;
  readonly attempts: number;
}

export interface CommitHooks {
  /** Called before each attempt's pointer swap (tests use it to inject failures). */
  beforeSwap?: (attempt: number) => Promise<void> | void;
  onRetry?: (attempt: number, err: Error) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function backoffMs(p: RetryPolicy, attempt: number): number {
  const exp = Math.min(p.maxWaitMs, p.minWaitMs * 2 ** (attempt - 1));
  // Full jitter keeps concurrent writers from retrying in lock step.
  return Math.floor(exp / 2 + Math.random() * (exp / 2));
}

function landed(table: LoadedTable, snapshotId: bigint): Snapshot | undefined {
  return snapshotById(table.metadata, snapshotId);
}

export async function commitWithRetry(
  catalog: Catalog, id: TableIdentifier, action: SnapshotAction,
  opts: { base?: LoadedTable; hooks?: CommitHooks; policy?: RetryPolicy } = {},
): Promise<CommitResult> {
  let table = opts.base ?? await catalog.loadTable(id);
  const policy = opts.policy ?? retryPolicy(table.metadata);
  const started = Date.now();
  let unknownOutcome = false;
  for (let attempt = 1; ; attempt++) {
    let attemptFiles: readonly string[] = [];
    try {
      const prepared = await action.prepare(table, attempt);
      attemptFiles = prepared.attemptFiles;
      await opts.hooks?.beforeSwap?.(attempt);
      const committed = await catalog.commitTable(id, prepared.requirements, prepared.updates);
      return { table: committed, snapshot: prepared.snapshot, attempts: attempt };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const retryable = error instanceof FloeError && error.retryable;
      if (error instanceof CommitStateUnknownError) unknownOutcome = true;
      else if (retryable) await deleteAll(catalog.io, attemptFiles);
      // Whatever happened, look first whether this snapshot is already in the table.
      const reloaded = await catalog.loadTable(id).catch(() => undefined);
      if (reloaded) {
        const snap = landed(reloaded, action.snapshotId);
        if (snap) return { table: reloaded, snapshot: snap, attempts: attempt };
        table = reloaded;
      }
      const outOfTime = Date.now() - started > policy.totalTimeoutMs;
      const canRetry = (retryable || error instanceof CommitStateUnknownError) && reloaded !== undefined;
      if (!canRetry || attempt > policy.numRetries || outOfTime) {
        if (unknownOutcome) {
          throw error instanceof CommitStateUnknownError ? error
            : new CommitStateUnknownError(`commit of snapshot ${action.snapshotId} has an unknown outcome; its files were kept: ${error.message}`, { cause: error });
        }
        // Definitely failed: nothing of ours is referenced, so remove every file we wrote.
        await deleteAll(catalog.io, [...attemptFiles, ...action.sharedFiles()]);
        if (error instanceof CommitConflictError && attempt > policy.numRetries) {
          throw new CommitConflictError(`commit failed after ${attempt} attempts (commit.retry.num-retries=${policy.numRetries}): ${error.message}`, { cause: error });
        }
        throw error;
      }
      opts.hooks?.onRetry?.(attempt, error);
      await sleep(backoffMs(policy, attempt));
    }
  }
}
