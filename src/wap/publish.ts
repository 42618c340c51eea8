// `floe publish`: puts what a write-audit-publish branch staged on main, atomically.
// - main is an ancestor of the branch head → fast-forward main (Java's ManageSnapshots
//   fastForwardBranch), requiring main still at its old head;
// - main moved since the fork → every branch-only snapshot, oldest first, is cherry-picked on
//   main's head (the same files in new manifests, summary with `source-snapshot-id` and
//   `published-wap-id`), each re-validated against what main did since the fork
//   (publish-validation.ts), ALL in one catalog commit with the branch reset to main's new head
//   (or dropped): readers never see half a publish, and the branch's next batch does not carry
//   already-published snapshots. A conflict refuses the whole publish; nothing changes.
//   Branch snapshots main already carries as cherry-picks (a branch forked from a branch
//   published since) are skipped.
// A commit that loses a race is rebuilt on the new main (commitUpdateWithRetry); the branch head
// is pinned when publish starts, so only what was there (and audited) is published.
import { NotFoundError, ValidationError } from '../errors.ts';
import { MAIN_BRANCH, ancestorsOf, snapshotById, type Snapshot, type SnapshotRef, type TableMetadata } from '../spec/table-metadata.ts';
import type { TableRequirement, TableUpdate } from '../spec/table-updates.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../table/identifier.ts';
import { divergence, refSnapshot } from '../table/ref-lineage.ts';
import { CherryPick } from '../transaction/cherry-pick.ts';
import { commitUpdateWithRetry, type CommitHooks, type PreparedUpdate } from '../transaction/commit-with-retry.ts';
import { prepareChain } from '../transaction/snapshot-chain.ts';
import { auditPropertyKey, branchAuditRecord, isQuarantineBranch } from './branch-status.ts';
import { PublishRefusedError } from './publish-errors.ts';
import { PublishValidator } from './publish-validation.ts';
import { wapMetrics, type PublishKind, type WapMetrics } from './wap-metrics.ts';

/** Options of {@link publishBranch}. */
export interface PublishOptions {
  /** The branch whose snapshots are published to main. */
  readonly branch: string;
  /** Publish a quarantined branch, or one whose audit failed, all the same. */
  readonly force?: boolean;
  /** Remove the branch (and its audit record) in the same commit instead of resetting it to main. */
  readonly dropBranch?: boolean;
  /** The head the caller audited: a branch that moved since is refused (a conflict), so only
   * audited snapshots are ever published. */
  readonly expectedHead?: bigint;
  /** @internal Prometheus counters (the ingest runner passes its own). */
  readonly metrics?: WapMetrics;
  /** Callbacks around each commit attempt. */
  readonly hooks?: CommitHooks;
}

/** One staged snapshot and the main snapshot it became. */
export interface PublishedSnapshot {
  /** The staged snapshot. */
  readonly sourceSnapshotId: bigint;
  /** Its snapshot on main (the same id after a fast-forward). */
  readonly snapshotId: bigint;
}

/** What a publish did. */
export interface PublishResult {
  /** `fast-forward` (main moved to the branch head), `reapplied` (main had moved: the branch's
   * snapshots were re-applied on it, as Iceberg's cherry-pick), or `nothing` (nothing to publish). */
  readonly kind: PublishKind;
  /** main's head after the publish. */
  readonly mainSnapshotId: bigint | null;
  /** The published snapshots, oldest first (summary `source-snapshot-id` on re-applied ones). */
  readonly published: readonly PublishedSnapshot[];
  /** Commit attempts. */
  readonly attempts: number;
}

/** What one attempt decided on its base. */
interface Attempt {
  kind: PublishKind;
  mainAfter: bigint | null;
  published: PublishedSnapshot[];
}

const mainRef = (m: TableMetadata, snapshotId: bigint): TableUpdate => ({ action: 'set-snapshot-ref', refName: MAIN_BRANCH, ...(m.refs[MAIN_BRANCH] ?? {}), type: 'branch', snapshotId });

function requireBranch(m: TableMetadata, table: string, branch: string): Snapshot {
  if (branch === MAIN_BRANCH) throw new ValidationError(`cannot publish main of ${table} to itself: name the audit branch (--branch)`);
  let head: Snapshot;
  try {
    head = refSnapshot(m, branch);
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`${table} has no branch '${branch}' to publish ${err.message.replace(/^no branch or tag '[^']*' /, '')}`);
    throw err;
  }
  if (m.refs[branch]!.type !== 'branch') throw new ValidationError(`'${branch}' of ${table} is a tag, not a branch: only branches are published`);
  return head;
}

/** Every one of `staged` is on main: itself (a fast-forward) or re-applied (`source-snapshot-id`). */
function publishedOnMain(m: TableMetadata, staged: readonly bigint[]): boolean {
  if (staged.length === 0) return false;
  const onMain = new Set<string>();
  for (const s of ancestorsOf(m, m.refs[MAIN_BRANCH]?.snapshotId)) {
    onMain.add(s.snapshotId.toString());
    const source = s.summary['source-snapshot-id'];
    if (source !== undefined) onMain.add(source);
  }
  return staged.every((id) => onMain.has(id.toString()));
}

/** Refuses a quarantined branch or one whose recorded audit of its head failed (unless forced). */
export function checkPublishable(m: TableMetadata, table: string, branch: string, head: Snapshot, force: boolean, o: { auditedHead?: bigint } = {}): void {
  if (force) return;
  let record: ReturnType<typeof branchAuditRecord>;
  try {
    record = branchAuditRecord(m, branch);
  } catch (err) {
    // An unreadable record (hand-edited property) blocks a plain publish with its one-line
    // error; a caller that has just audited this very head (the gate) does not need it —
    // else one bad property stops a write-audit-publish ingest at every restart.
    if (o.auditedHead !== head.snapshotId || isQuarantineBranch(branch)) throw err;
    record = undefined;
  }
  if (isQuarantineBranch(branch) || record?.status === 'quarantined') {
    throw new PublishRefusedError('quarantined', `branch '${branch}' of ${table} is quarantined${record?.quarantinedFrom ? ` (from '${record.quarantinedFrom}')` : ''}: it is not published without --force`);
  }
  if (record?.status === 'failed' && record.snapshotId === head.snapshotId) {
    const names = record.failed.map((f) => f.name).join(', ');
    throw new PublishRefusedError('audit-failed', `branch '${branch}' of ${table}: the audit of its head ${head.snapshotId} failed${names ? ` (${names})` : ''}: it is not published without --force`);
  }
}

/**
 * Publishes a branch to main (the "publish" of write-audit-publish): a fast-forward when main
 * has not moved since the fork, else each branch snapshot re-applied on main's head, validated
 * against what main added meanwhile (Iceberg's cherry-pick rules: a re-applied overwrite or
 * delete must not conflict with main's new rows). Then the branch is reset to main (or dropped
 * with `dropBranch`). A quarantined branch or one whose last audit failed is refused unless `force`.
 *
 * @throws {@link PublishRefusedError} (quarantined, audit failed, branch moved since
 * `expectedHead`), {@link CherryPickConflictError} when re-applying would change main's rows,
 * {@link NotFoundError} for an unknown branch, {@link CommitConflictError} when retries are spent.
 * @example
 * ```ts
 * await createBranch(catalog, id, 'etl');
 * await appendRecords(catalog, id, rows, { branch: 'etl' });
 * // … check the branch …
 * const r = await publishBranch(catalog, id, { branch: 'etl' });
 * console.log(r.kind, r.mainSnapshotId);
 * ```
 */
export async function publishBranch(catalog: Catalog, id: TableIdentifier, o: PublishOptions): Promise<PublishResult> {
  const table = identifierToString(id);
  const first = await catalog.loadTable(id);
  const head = requireBranch(first.metadata, table, o.branch);
  checkPublishable(first.metadata, table, o.branch, head, o.force ?? false, o.expectedHead !== undefined ? { auditedHead: o.expectedHead } : {});
  if (o.expectedHead !== undefined && head.snapshotId !== o.expectedHead) {
    throw new PublishRefusedError('conflict', `branch '${o.branch}' of ${table} moved from ${o.expectedHead} to ${head.snapshotId} after its audit: audit it again before publishing`);
  }
  const pinned = head.snapshotId;
  const staged = divergence(first.metadata, pinned).branchOnly.map((s) => s.snapshotId);
  const picks = new Map<bigint, CherryPick>();
  let decided: Attempt | undefined;
  // The cherry-picks keep their snapshot ids and manifests across attempts; the validation is
  // against main as the current attempt sees it.
  const validation: { current?: PublishValidator } = {};

  const prepare = async (base: LoadedTable, attempt: number): Promise<PreparedUpdate | undefined> => {
    const m = base.metadata;
    const ref = m.refs[o.branch];
    if ((!ref || ref.snapshotId !== pinned) && publishedOnMain(m, staged)) {
      // Another `floe publish` of the same branch won the race: it is on main, reset or dropped.
      decided = { kind: 'nothing', mainAfter: m.refs[MAIN_BRANCH]?.snapshotId ?? null, published: [] };
      return undefined;
    }
    if (!ref) throw new NotFoundError(`branch '${o.branch}' of ${table} was dropped while it was being published`);
    if (ref.snapshotId !== pinned) {
      throw new PublishRefusedError('conflict', `branch '${o.branch}' of ${table} moved from ${pinned} to ${ref.snapshotId} while it was being published: publish again (after auditing the new head)`);
    }
    const mainHead = m.refs[MAIN_BRANCH]?.snapshotId;
    const div = divergence(m, pinned, mainHead);
    // Snapshots main already carries as cherry-picks (`source-snapshot-id`): a branch forked
    // from a branch that was published since must not publish them a second time.
    const onMain = new Set(div.baseOnly.map((s) => s.summary['source-snapshot-id']).filter((v) => v !== undefined));
    const pending = div.branchOnly.filter((s) => !onMain.has(s.snapshotId.toString()));
    const requirements: TableRequirement[] = [
      { type: 'assert-table-uuid', uuid: m.tableUuid },
      { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, snapshotId: mainHead ?? null },
      { type: 'assert-ref-snapshot-id', ref: o.branch, snapshotId: pinned },
    ];
    const branchEnd = (mainAfter: bigint): TableUpdate[] => o.dropBranch
      ? [{ action: 'remove-snapshot-ref', refName: o.branch }, { action: 'remove-properties', removals: [auditPropertyKey(o.branch)] }]
      : mainAfter === pinned ? [] : [{ action: 'set-snapshot-ref', refName: o.branch, ...ref, snapshotId: mainAfter } as TableUpdate & SnapshotRef];

    if (pending.length === 0) {
      decided = { kind: 'nothing', mainAfter: mainHead ?? null, published: [] };
      if (!o.dropBranch) return undefined;
      return { updates: branchEnd(mainHead ?? pinned), requirements, attemptFiles: [] };
    }
    if (mainHead === undefined || div.baseOnly.length === 0) {
      decided = { kind: 'fast-forward', mainAfter: pinned, published: div.branchOnly.map((s) => ({ sourceSnapshotId: s.snapshotId, snapshotId: s.snapshotId })) };
      return { updates: [mainRef(m, pinned), ...branchEnd(pinned)], requirements, attemptFiles: [] };
    }
    // A branch forked from an empty main (its oldest snapshot has no parent) shares main's empty
    // beginning: when main's whole history is still there, all of it is what main did since the
    // fork, and the branch re-applies on it like any other (first staged batch of a new table
    // while another writer appends to main).
    const forkedFromEmpty = div.branchOnly[0]?.parentSnapshotId === null && div.baseOnly[0]?.parentSnapshotId === null;
    if (!div.forkPoint && !forkedFromEmpty) {
      throw new PublishRefusedError('conflict', `cannot publish branch '${o.branch}' of ${table}: it has no history in common with main (no fork point)`);
    }
    const validator = new PublishValidator({ io: catalog.io, meta: m, table, branch: o.branch, mainSince: div.baseOnly });
    const actions = pending.map((s) => {
      let pick = picks.get(s.snapshotId);
      if (!pick) {
        pick = new CherryPick(catalog.io, { source: s, branch: MAIN_BRANCH, validate: (b, parent, changes) => validation.current!.validate(b, parent, s, changes) });
        picks.set(s.snapshotId, pick);
      }
      return pick;
    });
    validation.current = validator;
    const chain = await prepareChain(catalog.io, base, actions, attempt, {
      requirements,
      extraUpdates: (result) => branchEnd(result.metadata.refs[MAIN_BRANCH]!.snapshotId),
    });
    if (!chain) return undefined;
    const mainAfter = chain.result.metadata.refs[MAIN_BRANCH]!.snapshotId;
    decided = { kind: 'reapplied', mainAfter, published: chain.snapshots.map((p, i) => ({ sourceSnapshotId: actions[i]!.source.snapshotId, snapshotId: p.snapshot.snapshotId })) };
    return chain;
  };

  const r = await commitUpdateWithRetry(catalog, id, {
    description: `publish of branch '${o.branch}'`,
    prepare,
    landed: (t) => decided !== undefined && decided.kind !== 'nothing' && t.metadata.refs[MAIN_BRANCH]?.snapshotId === decided.mainAfter
      && (decided.kind === 'fast-forward' || snapshotById(t.metadata, decided.mainAfter!) !== undefined),
    sharedFiles: () => [...picks.values()].flatMap((p) => p.sharedFiles()),
  }, { base: first, ...(o.hooks ? { hooks: o.hooks } : {}) });
  const d = decided!;
  (o.metrics ?? wapMetrics()).publishedBatches.inc({ table, kind: d.kind });
  return { kind: d.kind, mainSnapshotId: d.kind === 'nothing' ? r.table.metadata.refs[MAIN_BRANCH]?.snapshotId ?? null : d.mainAfter, published: d.published, attempts: r.attempts };
}

/** Options of {@link publishWapId}. */
export interface PublishWapIdOptions {
  /** @internal Prometheus counters. */
  readonly metrics?: WapMetrics;
  /** Callbacks around each commit attempt. */
  readonly hooks?: CommitHooks;
}

/**
 * Publishes the staged snapshot whose summary has `wap.id` = `wapId` (Spark's `spark.wap.id`
 * flow, Java's WapUtil + cherrypick): fast-forward when its parent is main's head, else
 * re-applied on main's head like a branch snapshot. Refused if main already carries it.
 */
export async function publishWapId(catalog: Catalog, id: TableIdentifier, wapId: string, o: PublishWapIdOptions = {}): Promise<PublishResult> {
  const table = identifierToString(id);
  const first = await catalog.loadTable(id);
  const staged = first.metadata.snapshots.filter((s) => s.summary['wap.id'] === wapId);
  if (staged.length === 0) throw new NotFoundError(`${table} has no snapshot staged with wap.id '${wapId}'`);
  if (staged.length > 1) throw new ValidationError(`${table} has ${staged.length} snapshots staged with wap.id '${wapId}' (${staged.map((s) => s.snapshotId).join(', ')}): a wap.id must be unique`);
  const source = staged[0]!;
  let pick: CherryPick | undefined;
  let decided: Attempt | undefined;
  const validation: { current?: PublishValidator } = {};
  const r = await commitUpdateWithRetry(catalog, id, {
    description: `publish of wap.id '${wapId}'`,
    prepare: async (base, attempt) => {
      const m = base.metadata;
      const mainHead = m.refs[MAIN_BRANCH]?.snapshotId;
      for (const s of ancestorsOf(m, mainHead)) {
        if (s.snapshotId === source.snapshotId || s.summary['published-wap-id'] === wapId) {
          throw new PublishRefusedError('already-published', `wap.id '${wapId}' of ${table} is already published (snapshot ${s.snapshotId} on main)`);
        }
      }
      const requirements: TableRequirement[] = [
        { type: 'assert-table-uuid', uuid: m.tableUuid },
        { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, snapshotId: mainHead ?? null },
      ];
      if ((source.parentSnapshotId ?? undefined) === mainHead) {
        decided = { kind: 'fast-forward', mainAfter: source.snapshotId, published: [{ sourceSnapshotId: source.snapshotId, snapshotId: source.snapshotId }] };
        return { updates: [mainRef(m, source.snapshotId)], requirements, attemptFiles: [] };
      }
      const div = divergence(m, source.snapshotId, mainHead);
      if (!div.forkPoint && mainHead !== undefined) throw new PublishRefusedError('conflict', `cannot publish wap.id '${wapId}' of ${table}: snapshot ${source.snapshotId} has no history in common with main`);
      const validator = new PublishValidator({ io: catalog.io, meta: m, table, branch: `wap.id ${wapId}`, mainSince: div.baseOnly });
      pick ??= new CherryPick(catalog.io, { source, branch: MAIN_BRANCH, validate: (b, parent, changes) => validation.current!.validate(b, parent, source, changes) });
      validation.current = validator;
      const chain = await prepareChain(catalog.io, base, [pick], attempt, { requirements });
      if (!chain) return undefined;
      decided = { kind: 'reapplied', mainAfter: chain.snapshots[0]!.snapshot.snapshotId, published: [{ sourceSnapshotId: source.snapshotId, snapshotId: chain.snapshots[0]!.snapshot.snapshotId }] };
      return chain;
    },
    landed: (t) => decided !== undefined && t.metadata.refs[MAIN_BRANCH]?.snapshotId === decided.mainAfter,
    sharedFiles: () => pick?.sharedFiles() ?? [],
  }, { base: first, ...(o.hooks ? { hooks: o.hooks } : {}) });
  const d = decided!;
  (o.metrics ?? wapMetrics()).publishedBatches.inc({ table, kind: d.kind });
  return { kind: d.kind, mainSnapshotId: d.mainAfter, published: d.published, attempts: r.attempts };
}
