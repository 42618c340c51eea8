// The one way floe builds a snapshot (the role of Java's and iceberg-rust's SnapshotProducer).
// An operation — append, rewrite, row-level change — only says, for each base it is tried on,
// which files it adds and removes, what it validates and how it labels itself; this class does
// the rest the same way for all of them:
// - added data and delete files go into new manifests (per spec, per content), written once for
//   every attempt when the operation's files do not depend on the base, else per attempt;
// - parent manifests holding removed files are rewritten with those entries DELETED, every
//   other parent manifest is carried over, then manifests are merged per
//   `commit.manifest-merge.enabled` / `commit.manifest.min-count-to-merge` / `…target-size-bytes`;
// - a manifest list is written per attempt, the summary is computed from the files (spec
//   Appendix F), source positions of the branch are carried forward, and the commit moves the
//   branch only if it is still at the parent (the retry loop re-runs `changes` otherwise).
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { faultPoint, type FaultPointName } from '../fault-points.ts';
import { writeManifestList } from '../format/manifest-list-writer.ts';
import { PendingWrites } from '../io/pending-writes.ts';
import type { FileIO } from '../io/file-io.ts';
import { EntryStatus, FileContent, ManifestContent, type DataFile, type ManifestEntry, type ManifestFile } from '../spec/data-file.ts';
import { branchBase, MAIN_BRANCH, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';
import { boolProperty, WRITE_AUDIT_PUBLISH_ENABLED } from '../spec/table-properties.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { mergeManifests } from './manifest-merge.ts';
import { branchCommit, parentTotals, stagedCommit, type PreparedSnapshot, type SnapshotAction } from './snapshot-action.ts';
import { newSnapshotId } from './snapshot-id.ts';
import { addFile, buildSummary, emptyDelta, removeFile, type Operation } from './snapshot-summary.ts';
import { carriedSourcePositions } from './source-positions.ts';
import { manifestEntries, snapshotManifests, writeTableManifest } from './table-manifests.ts';

/** What an operation does to one base. */
export interface SnapshotChanges {
  readonly operation: Operation;
  readonly addedDataFiles?: readonly DataFile[];
  readonly addedDeleteFiles?: readonly DataFile[];
  /** Live data or delete files of the parent this snapshot removes (matched by path). */
  readonly removedFiles?: readonly DataFile[];
  /** Explicit data sequence number for the added files (a rewrite keeps its rows as old as the
   * snapshot it read them from); default: inherited, i.e. this snapshot's. */
  readonly dataSequenceNumber?: bigint;
  /** Files written for this attempt only (e.g. a row-level change planned on this base):
   * removed when the attempt fails. Added files not listed here are shared by all attempts. */
  readonly attemptFiles?: readonly string[];
  readonly summary?: Readonly<Record<string, string>>;
}

/** The manifests of an attempt, for operations that regroup them (rewrite-manifests). */
export interface ManifestPlan {
  readonly manifests: readonly ManifestFile[];
  readonly attemptFiles: readonly string[];
}

export interface ProducerOptions {
  readonly branch?: string;
  /** Fixed across attempts; default: a new random id. */
  readonly snapshotId?: bigint;
  /** Summary properties added to every attempt's summary (e.g. source offsets). */
  readonly summary?: Readonly<Record<string, string>>;
  /**
   * Write-audit-publish by id (Iceberg/Spark `wap.id`, Java's `stageOnly()`): the snapshot is
   * added on top of main's head with summary `wap.id`, but no ref moves; it becomes visible when
   * published (cherry-picked). Needs table property `write.wap.enabled=true`; not with `branch`.
   */
  readonly wapId?: string;
}

export const WAP_ENABLED_PROPERTY = WRITE_AUDIT_PUBLISH_ENABLED.name;
export const WAP_ID_SUMMARY = 'wap.id';

/** Refuses staging by `wapId` where the producer would (WAP off, or a branch given too), before
 * any file is written; `table` names the table in the message. */
export function checkStaging(meta: TableMetadata, table: string, wapId: string | undefined, branch: string | undefined): void {
  if (wapId === undefined) return;
  if (wapId.trim() === '') throw new ValidationError('a wap id must not be empty');
  if (branch !== undefined && branch !== MAIN_BRANCH) throw new ValidationError(`cannot stage with wap id '${wapId}' and write to branch '${branch}' of ${table} at once: use one or the other`);
  if (!boolProperty(meta, WRITE_AUDIT_PUBLISH_ENABLED)) {
    throw new ValidationError(`cannot stage a snapshot with wap id '${wapId}': WAP is not enabled on ${table} (set table property ${WAP_ENABLED_PROPERTY}=true)`);
  }
}

export interface ProducerFaultPoints {
  /** After the shared manifests of the added files are written (once per commit). */
  readonly afterAddedManifests?: FaultPointName;
  /** After every manifest of an attempt is written. */
  readonly afterManifests?: FaultPointName;
  readonly afterManifestList?: FaultPointName;
}

export abstract class SnapshotProducer implements SnapshotAction {
  readonly snapshotId: bigint;
  readonly branch: string;
  readonly wapId: string | undefined;
  protected readonly commitUuid = randomUUID();
  protected readonly extraSummary: Readonly<Record<string, string>>;
  private readonly shared: string[] = [];
  /** Added manifests, kept for the next attempt while the operation adds the same files. */
  private addedManifestCache: { key: readonly DataFile[][]; manifests: ManifestFile[]; written: Promise<void> } | undefined;

  constructor(protected readonly io: FileIO, opts: ProducerOptions = {}) {
    this.branch = opts.branch ?? MAIN_BRANCH;
    this.snapshotId = opts.snapshotId ?? newSnapshotId();
    this.wapId = opts.wapId;
    if (this.wapId !== undefined) {
      if (this.wapId.trim() === '') throw new ValidationError('a wap id must not be empty');
      // Spark refuses both at once too: a staged snapshot belongs to no branch.
      if (this.branch !== MAIN_BRANCH) throw new ValidationError(`cannot stage with wap id '${this.wapId}' and write to branch '${this.branch}' at once: use one or the other`);
    }
    this.extraSummary = this.wapId === undefined ? opts.summary ?? {} : { ...opts.summary, [WAP_ID_SUMMARY]: this.wapId };
  }

  /** The operation's changes on `base` (whose `branch` head is `parent`), or null when there
   * is nothing to change on it. Throw to abort: a retryable FloeError retries on a fresh base,
   * any other error fails the commit. */
  protected abstract changes(base: LoadedTable, parent: Snapshot | undefined, attempt: number): Promise<SnapshotChanges | null>;

  protected faultPoints(): ProducerFaultPoints { return {}; }

  /** Summary properties known only once the attempt's manifests are planned. */
  protected extraSummaryFor(): Record<string, string> { return {}; }

  /** Called with removed paths that are not live at the parent (another commit took them). */
  protected removedFilesMissing(missing: readonly string[]): never {
    throw new ValidationError(`cannot commit ${this.snapshotId}: ${missing.length} file(s) it removes are no longer live at ${this.branch}'s head, e.g. ${missing[0]}`);
  }

  /** Overridden by operations that regroup the parent's manifests themselves. */
  protected async planManifests(meta: TableMetadata, parentManifests: readonly ManifestFile[], changes: SnapshotChanges, attempt: number, writes: PendingWrites): Promise<ManifestPlan> {
    const attemptFiles: string[] = [];
    try {
      const added = await this.addedManifests(meta, changes, attempt, attemptFiles, writes);
      const carried = await this.carryParentManifests(meta, parentManifests, changes.removedFiles ?? [], attempt, attemptFiles);
      const merged = await mergeManifests({
        io: this.io, metadata: meta, manifests: [...added, ...carried], snapshotId: this.snapshotId,
        pathFor: (i) => `${meta.location}/metadata/${this.commitUuid}-a${attempt}-merged-m${i}.avro`, writes,
      });
      attemptFiles.push(...merged.written);
      return { manifests: merged.manifests, attemptFiles };
    } catch (err) {
      await writes.settled().catch(() => undefined);
      for (const f of attemptFiles) await this.io.delete(f);
      throw err;
    }
  }

  sharedFiles(): readonly string[] { return this.shared; }

  async prepare(base: LoadedTable, attempt: number): Promise<PreparedSnapshot | undefined> {
    const meta = base.metadata;
    if (this.wapId !== undefined && !boolProperty(meta, WRITE_AUDIT_PUBLISH_ENABLED)) {
      throw new ValidationError(`cannot stage a snapshot with wap id '${this.wapId}': WAP is not enabled on this table (set table property ${WAP_ENABLED_PROPERTY}=true)`);
    }
    const parent = branchBase(meta, this.branch);
    const changes = await this.changes(base, parent, attempt);
    if (!changes) return undefined;
    const attemptFiles: string[] = [...(changes.attemptFiles ?? [])];
    // The manifests and the manifest list are written side by side, and beside the metadata file
    // the catalog writes: the catalog moves the pointer only once `written` resolves.
    const writes = new PendingWrites(this.io);
    try {
      const parentManifests = await snapshotManifests(this.io, parent);
      const plan = await this.planManifests(meta, parentManifests, changes, attempt, writes);
      attemptFiles.push(...plan.attemptFiles);
      const fp = this.faultPoints();
      if (fp.afterManifests) writes.whenDone(() => faultPoint(fp.afterManifests!));
      const sequenceNumber = meta.lastSequenceNumber + 1n;
      const listPath = `${meta.location}/metadata/snap-${this.snapshotId}-${attempt}-${this.commitUuid}.avro`;
      attemptFiles.push(listPath);
      writes.write(listPath, writeManifestList({
        manifests: [...plan.manifests], snapshotId: this.snapshotId, parentSnapshotId: parent?.snapshotId ?? null, sequenceNumber,
      }));
      if (fp.afterManifestList) writes.whenDone(() => faultPoint(fp.afterManifestList!));
      const delta = emptyDelta();
      for (const f of changes.addedDataFiles ?? []) addFile(delta, f);
      for (const f of changes.addedDeleteFiles ?? []) addFile(delta, f);
      for (const f of changes.removedFiles ?? []) removeFile(delta, f);
      const totals = await parentTotals(this.io, parent, parentManifests);
      const own = { ...this.extraSummary, ...changes.summary, ...this.extraSummaryFor() };
      const snapshot: Snapshot = {
        snapshotId: this.snapshotId,
        parentSnapshotId: parent?.snapshotId ?? null,
        sequenceNumber,
        timestampMs: Date.now(),
        manifestList: listPath,
        summary: buildSummary(changes.operation, delta, totals, { ...own, ...carriedSourcePositions(meta, parent?.snapshotId, own) }),
        schemaId: meta.currentSchemaId,
      };
      const prepared = this.wapId !== undefined ? stagedCommit(meta, snapshot, attemptFiles) : branchCommit(meta, this.branch, snapshot, attemptFiles);
      const written = writes.settled();
      // Handled here too: a commit that stops before its swap (a hook throws) never awaits it.
      written.catch(() => undefined);
      return { ...prepared, written };
    } catch (err) {
      await writes.settled().catch(() => undefined);
      for (const f of attemptFiles) await this.io.delete(f);
      throw err;
    }
  }

  /** New manifests for the added files: one per spec and content. Written once and shared by
   * every attempt unless the files were written for this attempt (then per attempt). */
  private async addedManifests(meta: TableMetadata, changes: SnapshotChanges, attempt: number, attemptFiles: string[], writes: PendingWrites): Promise<ManifestFile[]> {
    const data = changes.addedDataFiles ?? NO_FILES;
    const deletes = changes.addedDeleteFiles ?? NO_FILES;
    if (data.length === 0 && deletes.length === 0) return [];
    const key = [data as DataFile[], deletes as DataFile[]];
    const cached = this.addedManifestCache;
    if (cached && cached.key[0] === key[0] && cached.key[1] === key[1]) {
      // Written by an earlier attempt: reused once that write is known to have succeeded.
      if (await cached.written.then(() => true, () => false)) return cached.manifests;
      this.addedManifestCache = undefined;
    }
    const perAttempt = new Set(changes.attemptFiles ?? []);
    const sharedAcrossAttempts = ![...data, ...deletes].some((f) => perAttempt.has(f.filePath));
    const prefix = sharedAcrossAttempts ? `${this.commitUuid}` : `${this.commitUuid}-a${attempt}`;
    const written = sharedAcrossAttempts ? this.shared : attemptFiles;
    const out: ManifestFile[] = [];
    const own = new PendingWrites(this.io, writes);
    const groups: [ManifestContent, Map<number, DataFile[]>][] = [[ManifestContent.Data, bySpec(data)], [ManifestContent.Deletes, bySpec(deletes)]];
    for (const [content, specs] of groups) {
      for (const [specId, files] of specs) {
        const path = `${meta.location}/metadata/${prefix}-m${out.length}${content === ManifestContent.Deletes ? '-deletes' : ''}.avro`;
        const entries: ManifestEntry[] = files.map((dataFile) => ({
          status: EntryStatus.Added, snapshotId: this.snapshotId,
          sequenceNumber: changes.dataSequenceNumber ?? null, fileSequenceNumber: null, dataFile,
        }));
        const result = await writeTableManifest({ io: this.io, metadata: meta, path, specId, content, addedSnapshotId: this.snapshotId, entries, writes: own });
        written.push(...result.paths);
        out.push(...result.manifests);
      }
    }
    const ownWritten = own.settled();
    if (sharedAcrossAttempts) this.addedManifestCache = { key, manifests: out, written: ownWritten };
    const fp = this.faultPoints();
    if (fp.afterAddedManifests) writes.track(ownWritten.then(() => faultPoint(fp.afterAddedManifests!)));
    return out;
  }

  /** The parent's manifests for this snapshot: untouched ones as they are, those holding a
   * removed file rewritten with its entry DELETED (and the others EXISTING). */
  private async carryParentManifests(meta: TableMetadata, parentManifests: readonly ManifestFile[], removed: readonly DataFile[], attempt: number, attemptFiles: string[]): Promise<ManifestFile[]> {
    if (removed.length === 0) return [...parentManifests];
    const removedPaths = new Set(removed.map((f) => f.filePath));
    const found = new Set<string>();
    const out: ManifestFile[] = [];
    for (const m of parentManifests) {
      const mayHold = m.content === ManifestContent.Data
        ? removed.some((f) => f.content === FileContent.Data)
        : removed.some((f) => f.content !== FileContent.Data);
      if (!mayHold) { out.push(m); continue; }
      const entries = await manifestEntries(this.io, m);
      if (!entries.some((e) => e.status !== EntryStatus.Deleted && removedPaths.has(e.dataFile.filePath))) { out.push(m); continue; }
      const carried: ManifestEntry[] = [];
      for (const e of entries) {
        if (e.status === EntryStatus.Deleted) continue;
        if (removedPaths.has(e.dataFile.filePath)) {
          found.add(e.dataFile.filePath);
          carried.push({ ...e, status: EntryStatus.Deleted, snapshotId: this.snapshotId });
        } else {
          carried.push({ ...e, status: EntryStatus.Existing });
        }
      }
      const path = `${meta.location}/metadata/${this.commitUuid}-a${attempt}-r${out.length}.avro`;
      const written = await writeTableManifest({ io: this.io, metadata: meta, path, specId: m.partitionSpecId, content: m.content, entries: carried, addedSnapshotId: this.snapshotId });
      attemptFiles.push(...written.paths);
      out.push(...written.manifests);
    }
    const missing = [...removedPaths].filter((p) => !found.has(p));
    if (missing.length > 0) this.removedFilesMissing(missing);
    return out;
  }
}

const NO_FILES: readonly DataFile[] = [];

function bySpec(files: readonly DataFile[]): Map<number, DataFile[]> {
  const out = new Map<number, DataFile[]>();
  for (const f of files) {
    const list = out.get(f.specId);
    if (list) list.push(f); else out.set(f.specId, [f]);
  }
  return out;
}
