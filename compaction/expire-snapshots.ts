// Snapshot expiry (Iceberg's ExpireSnapshots): which snapshots and refs may go is decided
// purely from metadata — every branch keeps its newest `min-snapshots-to-keep` ancestors and
// those younger than `max-snapshot-age-ms` (and the newest that records ingest source
// positions), every live tag keeps its snapshot — then one
// commit removes them, and only files that no remaining snapshot reaches are deleted.
import { faultPoint } from '../src/fault-points.ts';
import { ancestorsOf, branchBase, MAIN_BRANCH, type Snapshot, type TableMetadata } from '../src/spec/table-metadata.ts';
import { intProperty, MAX_REF_AGE_MS, MAX_SNAPSHOT_AGE_MS, MIN_SNAPSHOTS_TO_KEEP } from '../src/spec/table-properties.ts';
import { BRANCH_PROPERTY_PREFIXES, RESERVED_REF_PREFIX } from '../src/transaction/manage-refs.ts';
import { commitUpdateWithRetry } from '../src/transaction/commit-with-retry.ts';
import { decodeOffsets, OFFSETS_KEY_PREFIX, recordsSourcePositions } from '../src/transaction/source-positions.ts';
import type { Catalog } from '../src/table/catalog.ts';
import type { TableIdentifier } from '../src/table/identifier.ts';
import { reachableFileDetails, reachableFiles, type ReachableFile } from '../src/table/table-files.ts';
import { comparableLocation } from '../src/table/table-location.ts';
import { deleteExpiredFiles, droppedSnapshots } from './expired-file-cleanup.ts';

/** Options of {@link expireSnapshots}. */
export interface ExpiryOptions {
  /** "Now" (usually `Date.now()`): ages are measured from it. */
  readonly nowMs: number;
  /** Expire snapshots older than this age (default: `history.expire.max-snapshot-age-ms`, 5 days). */
  readonly olderThanMs?: number;
  /** Keep at least this many newest ancestors of every branch (default: `history.expire.min-snapshots-to-keep`, 1). */
  readonly retainLast?: number;
}

export interface ExpiryPlan {
  readonly expire: readonly bigint[];
  readonly removeRefs: readonly string[];
  readonly retained: readonly bigint[];
}

/** The newest next-offset of every (offsets key, partition) along `head`'s ancestry. */
function offsetsAlong(m: TableMetadata, head: bigint | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const s of ancestorsOf(m, head)) {
    for (const [key, text] of Object.entries(s.summary)) {
      if (!key.startsWith(OFFSETS_KEY_PREFIX)) continue;
      for (const [p, o] of decodeOffsets(text)) if (!out.has(`${key}\u0000${p}`)) out.set(`${key}\u0000${p}`, o);
    }
  }
  return out;
}

/**
 * A quarantined write-audit-publish batch (`quarantine/<branch>/<id>`) is what tells its
 * ingest that the batch's records were consumed (src/ingest/source-offsets.ts positionHeads):
 * removed by max-ref-age-ms before `<branch>` (or main, when the branch is gone) has recorded
 * offsets as far, a restarted ingest would read those records again. Such a ref outlives its
 * max-ref-age-ms until then (normally the next published batch).
 */
export function quarantineHoldsOffsets(m: TableMetadata, name: string): boolean {
  const from = new RegExp(`^${RESERVED_REF_PREFIX}(.+)/-?\\d+$`).exec(name)?.[1];
  const ref = m.refs[name];
  if (from === undefined || ref?.type !== 'branch') return false;
  const own = offsetsAlong(m, ref.snapshotId);
  if (own.size === 0) return false;
  const origin = offsetsAlong(m, branchBase(m, from)?.snapshotId);
  for (const [k, o] of own) if ((origin.get(k) ?? -1n) < o) return true;
  return false;
}

export function planSnapshotExpiry(m: TableMetadata, o: ExpiryOptions): ExpiryPlan {
  const defaultMaxAge = o.olderThanMs ?? intProperty(m, MAX_SNAPSHOT_AGE_MS);
  const defaultMinKeep = o.retainLast ?? intProperty(m, MIN_SNAPSHOTS_TO_KEEP);
  const defaultMaxRefAge = intProperty(m, MAX_REF_AGE_MS);
  const byId = new Map(m.snapshots.map((s) => [s.snapshotId, s]));
  const retained = new Set<bigint>();
  const removeRefs: string[] = [];
  for (const [name, ref] of Object.entries(m.refs)) {
    const head = byId.get(ref.snapshotId);
    const maxRefAge = ref.maxRefAgeMs ?? defaultMaxRefAge;
    if (name !== MAIN_BRANCH && head && o.nowMs - head.timestampMs > maxRefAge && !quarantineHoldsOffsets(m, name)) { removeRefs.push(name); continue; }
    if (ref.type === 'tag') { retained.add(ref.snapshotId); continue; }
    const minKeep = Math.max(1, ref.minSnapshotsToKeep ?? defaultMinKeep);
    // The branch's own max-snapshot-age-ms wins over --older-than, as min-snapshots-to-keep wins
    // over --retain-last (Java's RemoveSnapshots): a branch kept longer on purpose stays so.
    const maxAge = ref.maxSnapshotAgeMs ?? defaultMaxAge;
    let kept = 0;
    let positionsKept = false;
    for (const s of ancestorsOf(m, ref.snapshotId)) {
      if (kept < minKeep || o.nowMs - s.timestampMs <= maxAge) {
        retained.add(s.snapshotId);
        kept++;
        positionsKept ||= recordsSourcePositions(s);
      } else if (!positionsKept && recordsSourcePositions(s)) {
        // The newest snapshot recording source positions (ingest offsets) is kept whatever its
        // age: without it a restarted ingest would read its source again from the start.
        retained.add(s.snapshotId);
        positionsKept = true;
      }
    }
  }
  // Snapshots on no ref (e.g. staged, never published) go once they are old enough.
  const onSomeRef = new Set<bigint>();
  for (const r of Object.values(m.refs)) for (const a of ancestorsOf(m, r.snapshotId)) onSomeRef.add(a.snapshotId);
  for (const s of m.snapshots) {
    if (!retained.has(s.snapshotId) && !onSomeRef.has(s.snapshotId) && o.nowMs - s.timestampMs <= defaultMaxAge) retained.add(s.snapshotId);
  }
  const expire = m.snapshots.filter((s) => !retained.has(s.snapshotId)).map((s) => s.snapshotId);
  return { expire, removeRefs, retained: [...retained] };
}

/** What {@link expireSnapshots} removed (or, in a dry run, would remove). */
export interface ExpiryResult {
  /** Snapshots removed from the metadata. */
  readonly expiredSnapshots: number;
  /** Branches and tags removed by their `max-ref-age-ms`. */
  readonly removedRefs: readonly string[];
  /** Files deleted that no remaining snapshot needs (manifests, manifest lists, data and delete files). */
  readonly deletedFiles: number;
  /** Files freed by the expiry that were not deleted (a delete failed, or a snapshot another
   * writer added meanwhile could not be read, so what it needs is unknown); `floe
   * remove-orphans` takes them later. */
  readonly leftFiles: number;
  /** Whether this was a dry run. */
  readonly dryRun: boolean;
  /** A dry run's details: each snapshot that would go, and each file that would be deleted. */
  readonly wouldExpire?: ExpiryDryRun;
}

/** A snapshot a dry run of {@link expireSnapshots} would expire. */
export interface ExpiringSnapshot {
  /** The snapshot's id. */
  readonly snapshotId: bigint;
  /** When it was committed (ms since the epoch). */
  readonly timestampMs: number;
  /** Its summary's `operation` (append, overwrite, delete, replace). */
  readonly operation: string;
  /** Summary `added-records`, when the writer recorded it. */
  readonly addedRecords: number | null;
}
/** A file a dry run of {@link expireSnapshots} would delete: its kind, size (null when unknown) and location. */
export interface ExpiringFile {
  /** What the file is. */
  readonly kind: 'manifest-list' | 'manifest' | 'data' | 'position-deletes' | 'equality-deletes';
  /** Its size where the metadata records it (manifest lists have none). */
  readonly sizeBytes: bigint | null;
  /** The file's location. */
  readonly uri: string;
}
/** What a dry run of {@link expireSnapshots} would do: the snapshots it would expire and the files it would delete. */
export interface ExpiryDryRun {
  /** Oldest first. */
  readonly snapshots: readonly ExpiringSnapshot[];
  /** Bottom-up, as they would be deleted: data and delete files, manifests, manifest lists. */
  readonly files: readonly ExpiringFile[];
}

const DELETE_ORDER: Record<ReachableFile['kind'], number> = { 'data': 0, 'position-deletes': 1, 'equality-deletes': 2, 'manifest': 3, 'manifest-list': 4 };

/** What a dry run reports: the expired snapshots, and the files they reach that no kept one does. */
function dryRunDetail(expired: readonly Snapshot[], expiredFiles: ReadonlyMap<string, ReachableFile>, keep: ReadonlySet<string>): ExpiryDryRun {
  const kept = new Set([...keep].map(comparableLocation));
  const files = [...expiredFiles].filter(([uri]) => !kept.has(comparableLocation(uri)))
    .map(([uri, f]) => ({ uri, ...f }))
    .sort((a, b) => DELETE_ORDER[a.kind] - DELETE_ORDER[b.kind] || (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  const snapshots = [...expired].sort((a, b) => a.timestampMs - b.timestampMs).map((s) => {
    const added = s.summary['added-records'];
    return {
      snapshotId: s.snapshotId, timestampMs: s.timestampMs, operation: s.summary.operation ?? 'unknown',
      addedRecords: added !== undefined && /^\d+$/.test(added) ? Number(added) : null,
    };
  });
  return { snapshots, files };
}

/**
 * Expires old snapshots (Iceberg's expire_snapshots): removes snapshots older than
 * `olderThanMs` (default `history.expire.max-snapshot-age-ms`, 5 days) while keeping the
 * `retainLast` newest ancestors of every branch (`history.expire.min-snapshots-to-keep`) and
 * each ref's own `min-snapshots-to-keep` / `max-snapshot-age-ms`; removes refs past their
 * `max-ref-age-ms` (never main); then deletes the files only the expired snapshots needed.
 * A quarantine ref (`quarantine/<branch>/<id>`) outlives its `max-ref-age-ms` until the branch
 * has recorded ingest offsets as far, so a restarted ingest never reads its records again.
 *
 * @throws {@link floe!NotFoundError} for a missing table; {@link floe!CommitConflictError} when retries are spent.
 * @example
 * ```ts
 * const r = await expireSnapshots(catalog, id, { nowMs: Date.now(), olderThanMs: 86_400_000, retainLast: 10 });
 * console.log(r.expiredSnapshots, r.deletedFiles);
 * ```
 */
export async function expireSnapshots(catalog: Catalog, id: TableIdentifier, o: ExpiryOptions & { dryRun?: boolean }): Promise<ExpiryResult> {
  interface Planned { plan: ExpiryPlan; expireIds: Set<bigint>; expired: Snapshot[]; expiredFiles: Map<string, ReachableFile>; keep: Set<string> }
  let planned: Planned | undefined;
  const result = await commitUpdateWithRetry(catalog, id, {
    description: 'snapshot expiry',
    prepare: async (base) => {
      const plan = planSnapshotExpiry(base.metadata, o);
      const expireIds = new Set(plan.expire);
      const expired = base.metadata.snapshots.filter((s) => expireIds.has(s.snapshotId));
      const kept = base.metadata.snapshots.filter((s) => !expireIds.has(s.snapshotId));
      // Read every manifest list and manifest of both sides before committing: an unreadable
      // one fails here, naming the file, with nothing committed (it used to fail after the
      // commit, leaving snapshots gone and their files undeleted behind an error).
      planned = { plan, expireIds, expired, expiredFiles: await reachableFileDetails(catalog.io, expired), keep: await reachableFiles(catalog.io, kept) };
      if (o.dryRun || (expired.length === 0 && plan.removeRefs.length === 0)) return undefined;
      const ownedProperties = plan.removeRefs.filter((r) => base.metadata.refs[r]?.type === 'branch')
        .flatMap((r) => BRANCH_PROPERTY_PREFIXES.map((p) => `${p}${r}`)).filter((k) => base.metadata.properties[k] !== undefined);
      return {
        attemptFiles: [],
        // Every ref must still be where the plan saw it: a moved ref may need a planned snapshot.
        requirements: [
          { type: 'assert-table-uuid', uuid: base.metadata.tableUuid },
          ...Object.entries(base.metadata.refs).map(([ref, r]) => ({ type: 'assert-ref-snapshot-id' as const, ref, snapshotId: r.snapshotId })),
        ],
        updates: [
          ...plan.removeRefs.map((refName) => ({ action: 'remove-snapshot-ref' as const, refName })),
          // A removed branch's own properties (its WAP audit record) go with it, as in dropRef.
          ...(ownedProperties.length > 0 ? [{ action: 'remove-properties' as const, removals: ownedProperties }] : []),
          ...(plan.expire.length > 0 ? [{ action: 'remove-snapshots' as const, snapshotIds: plan.expire }] : []),
        ],
      };
    },
  });
  const { plan, expireIds, expired, expiredFiles, keep } = planned!;
  if (o.dryRun) {
    return { expiredSnapshots: expired.length, removedRefs: plan.removeRefs, deletedFiles: 0, leftFiles: 0, dryRun: true, wouldExpire: dryRunDetail(expired, expiredFiles, keep) };
  }
  if (!result.committed) {
    // Nothing to expire: still finish what an earlier run left when it died after its commit.
    const cleanup = await deleteExpiredFiles(catalog.io, result.table.metadata, await droppedSnapshots(catalog.io, result.table.metadata));
    return { expiredSnapshots: expired.length, removedRefs: plan.removeRefs, deletedFiles: cleanup.deleted, leftFiles: cleanup.left, dryRun: false };
  }
  const after: TableMetadata = result.table.metadata;
  faultPoint('expire.after-commit');
  // The expired snapshots are in `after`'s log (its previous metadata file), with those of any
  // earlier run that died before it had deleted everything. `after` also holds any snapshot
  // added meanwhile without moving a ref (a staged one), so files it reuses are kept.
  let cleanup: { deleted: number; left: number };
  try {
    const earlier = (await droppedSnapshots(catalog.io, after)).filter((s) => !expireIds.has(s.snapshotId));
    cleanup = await deleteExpiredFiles(catalog.io, after, [...expired, ...earlier]);
  } catch {
    // The expiry is committed; deleting without knowing what the other snapshots need is not
    // safe. The next run finishes the cleanup (droppedSnapshots finds these snapshots again).
    cleanup = { deleted: 0, left: [...expiredFiles.keys()].filter((f) => !keep.has(f)).length };
  }
  return { expiredSnapshots: expired.length, removedRefs: plan.removeRefs, deletedFiles: cleanup.deleted, leftFiles: cleanup.left, dryRun: false };
}
