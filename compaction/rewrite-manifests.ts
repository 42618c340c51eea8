// Manifest rewrite (Iceberg's RewriteManifests): one `replace` snapshot on a branch whose
// manifest list holds the same live entries regrouped — per partition spec, sorted by
// partition tuple, rolled at `commit.manifest.target-size-bytes` — so planners prune whole
// manifests again after many small commits. Data files are never touched; delete manifests
// are carried over unchanged.
import { randomUUID } from 'node:crypto';
import { faultPoint } from '../src/fault-points.ts';
import { ValidationError } from '../src/errors.ts';
import { writeManifestList } from '../src/format/manifest-list-writer.ts';
import type { FileIO } from '../src/io/file-io.ts';
import { EntryStatus, ManifestContent, type ManifestEntry, type ManifestFile, type PartitionTuple } from '../src/spec/data-file.ts';
import { splitForUuidBounds } from '../src/format/manifest-writer.ts';
import { partitionType } from '../src/spec/partition-spec.ts';
import { branchHead, currentSchema, MAIN_BRANCH, propertyInt, specById, type Snapshot, type TableMetadata } from '../src/spec/table-metadata.ts';
import type { PrimitiveValue } from '../src/spec/types.ts';
import type { Catalog, LoadedTable } from '../src/table/catalog.ts';
import type { TableIdentifier } from '../src/table/identifier.ts';
import { commitWithRetry, type CommitHooks } from '../src/transaction/commit-with-retry.ts';
import { branchCommit, parentTotals, type PreparedSnapshot, type SnapshotAction } from '../src/transaction/snapshot-action.ts';
import { newSnapshotId } from '../src/transaction/snapshot-id.ts';
import { buildSummary, emptyDelta } from '../src/transaction/snapshot-summary.ts';
import { manifestEntries, snapshotManifests, writeTableManifest } from '../src/transaction/table-manifests.ts';

export interface RewriteManifestsStats {
  readonly manifestsCreated: number;
  readonly manifestsKept: number;
  readonly manifestsReplaced: number;
  readonly entriesProcessed: number;
}

export interface RewriteManifestsResult extends RewriteManifestsStats {
  /** The new snapshot, or null when there was nothing to rewrite (see `reason`). */
  readonly snapshotId: bigint | null;
  readonly branch: string;
  readonly reason?: string;
}

function compareValue(a: PrimitiveValue | null, b: PrimitiveValue | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  // One partition field has one type, so both sides are numbers/bigints, strings or booleans.
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Orders partition tuples field by field, nulls first. */
export function comparePartitions(a: PartitionTuple, b: PartitionTuple): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareValue(a[i] ?? null, b[i] ?? null);
    if (c !== 0) return c;
  }
  return 0;
}

/** Pure: live data entries as EXISTING entries, grouped by spec (ascending) and sorted by
 * partition then path. Snapshot id and both sequence numbers stay exactly as they were:
 * readers apply equality and position deletes by data sequence number, so a changed one
 * would resurrect or hide rows. */
export function regroupEntries(entries: readonly ManifestEntry[]): Map<number, ManifestEntry[]> {
  const bySpec = new Map<number, ManifestEntry[]>();
  for (const e of entries) {
    if (e.status === EntryStatus.Deleted) continue;
    if (e.sequenceNumber === null || e.fileSequenceNumber === null || e.snapshotId === null) {
      throw new ValidationError(`manifest entry for ${e.dataFile.filePath} has no inherited sequence number or snapshot id`);
    }
    const list = bySpec.get(e.dataFile.specId) ?? [];
    list.push({ ...e, status: EntryStatus.Existing });
    bySpec.set(e.dataFile.specId, list);
  }
  for (const list of bySpec.values()) {
    list.sort((a, b) => comparePartitions(a.dataFile.partition, b.dataFile.partition)
      || (a.dataFile.filePath < b.dataFile.filePath ? -1 : a.dataFile.filePath > b.dataFile.filePath ? 1 : 0));
  }
  return new Map([...bySpec.entries()].sort(([a], [b]) => a - b));
}

/**
 * One attempt's manifests for sorted entries, each at most `commit.manifest.target-size-bytes`
 * when one entry fits. The Avro writer is not streaming, so sizes are measured: a manifest is
 * a fixed header (the Avro and Iceberg schemas, a few KiB) plus some bytes per deflated entry.
 * The whole group and a one-entry probe give a first estimate of how many entries fit; a run
 * that comes out too big re-estimates from its own size (small runs deflate worse than the
 * whole group) and is written again shorter.
 */
class RollingManifests {
  /** Every manifest this attempt wrote and kept: removed if the attempt fails. */
  readonly written: string[] = [];
  private next = 0;
  private readonly target: number;

  constructor(private readonly io: FileIO, private readonly meta: TableMetadata, private readonly snapshotId: bigint, private readonly pathPrefix: string) {
    this.target = propertyInt(meta, 'commit.manifest.target-size-bytes', 8 * 1024 * 1024);
  }

  async write(specId: number, entries: readonly ManifestEntry[]): Promise<ManifestFile[]> {
    // Split for uuid bounds first, so each rolled manifest below is exactly one file.
    const schema = currentSchema(this.meta);
    const fields = partitionType(specById(this.meta, specId), schema).map((f) => ({ name: f.name, fieldId: f.fieldId, type: f.type }));
    const out: ManifestFile[] = [];
    for (const group of splitForUuidBounds(fields, entries)) out.push(...await this.writeRolling(specId, group));
    return out;
  }

  private async writeRolling(specId: number, entries: readonly ManifestEntry[]): Promise<ManifestFile[]> {
    const whole = await this.writeOne(specId, entries);
    if (Number(whole.manifestLength) <= this.target || entries.length <= 1) return [whole];
    await this.discard(whole);
    const probe = await this.writeOne(specId, entries.slice(0, 1));
    await this.discard(probe);
    const oneEntry = Number(probe.manifestLength);
    if (oneEntry > this.target) {
      throw new ValidationError(`commit.manifest.target-size-bytes=${this.target} is smaller than a manifest of one entry (${oneEntry} bytes)`);
    }
    /** Entries that fit, from the one-entry size and a run of `count` entries of `length` bytes. */
    const fitting = (count: number, length: number): number => {
      const perEntry = (length - oneEntry) / (count - 1);
      return perEntry > 0 ? Math.max(1, Math.floor((this.target - oneEntry + perEntry) / perEntry)) : 1;
    };
    const first = Math.min(entries.length - 1, fitting(entries.length, Number(whole.manifestLength)));
    // Equal runs rather than full ones and a stub.
    let runLength = Math.ceil(entries.length / Math.ceil(entries.length / first));
    const out: ManifestFile[] = [];
    for (let i = 0; i < entries.length;) {
      const run = entries.slice(i, i + runLength);
      const m = await this.writeOne(specId, run);
      if (Number(m.manifestLength) <= this.target || run.length === 1) {
        out.push(m);
        i += run.length;
        continue;
      }
      await this.discard(m);
      runLength = Math.max(1, Math.min(run.length - 1, fitting(run.length, Number(m.manifestLength))));
    }
    return out;
  }

  private async writeOne(specId: number, entries: readonly ManifestEntry[]): Promise<ManifestFile> {
    const path = `${this.pathPrefix}-m${this.next++}.avro`;
    const { manifests, paths } = await writeTableManifest({ io: this.io, metadata: this.meta, path, specId, entries, addedSnapshotId: this.snapshotId });
    this.written.push(...paths);
    if (manifests.length !== 1) throw new Error(`manifest ${path} was split although its entries were split for uuid bounds`);
    return manifests[0]!;
  }

  private async discard(m: ManifestFile): Promise<void> {
    this.written.splice(this.written.indexOf(m.manifestPath), 1);
    await this.io.delete(m.manifestPath);
  }
}

export class RewriteManifests implements SnapshotAction {
  readonly snapshotId: bigint;
  readonly branch: string;
  private readonly commitUuid = randomUUID();

  constructor(private readonly io: FileIO, opts: { branch?: string; snapshotId?: bigint } = {}) {
    this.branch = opts.branch ?? MAIN_BRANCH;
    this.snapshotId = opts.snapshotId ?? newSnapshotId();
  }

  /** Every manifest is written for one attempt (its content depends on that base's head). */
  sharedFiles(): readonly string[] { return []; }

  async prepare(base: LoadedTable, attempt: number): Promise<PreparedSnapshot> {
    const meta = base.metadata;
    const parent = branchHead(meta, this.branch);
    if (!parent) throw new ValidationError(`branch '${this.branch}' has no snapshot to rewrite`);
    const sequenceNumber = meta.lastSequenceNumber + 1n;
    const parentManifests = await snapshotManifests(this.io, parent);
    const dataManifests = parentManifests.filter((m) => m.content === ManifestContent.Data);
    const deleteManifests = parentManifests.filter((m) => m.content !== ManifestContent.Data);
    const writer = new RollingManifests(this.io, meta, this.snapshotId, `${meta.location}/metadata/${this.commitUuid}-a${attempt}`);
    const attemptFiles = writer.written;
    try {
      const entries: ManifestEntry[] = [];
      for (const m of dataManifests) entries.push(...await manifestEntries(this.io, m));
      const groups = regroupEntries(entries);
      const created: ManifestFile[] = [];
      let entriesProcessed = 0;
      for (const [specId, group] of groups) {
        entriesProcessed += group.length;
        created.push(...await writer.write(specId, group));
      }
      faultPoint('rewrite-manifests.after-manifests');
      const listPath = `${meta.location}/metadata/snap-${this.snapshotId}-${attempt}-${this.commitUuid}.avro`;
      await this.io.writeNew(listPath, writeManifestList({
        manifests: [...created, ...deleteManifests], snapshotId: this.snapshotId,
        parentSnapshotId: parent.snapshotId, sequenceNumber,
      }));
      attemptFiles.push(listPath);
      faultPoint('rewrite-manifests.after-manifest-list');
      const stats: RewriteManifestsStats = {
        manifestsCreated: created.length, manifestsKept: deleteManifests.length,
        manifestsReplaced: dataManifests.length, entriesProcessed,
      };
      const totals = await parentTotals(this.io, parent, parentManifests);
      const snapshot: Snapshot = {
        snapshotId: this.snapshotId,
        parentSnapshotId: parent.snapshotId,
        sequenceNumber,
        timestampMs: Date.now(),
        manifestList: listPath,
        // Nothing added or removed: the totals are the parent's, exactly.
        summary: buildSummary('replace', emptyDelta(), totals, {
          'manifests-created': String(stats.manifestsCreated),
          'manifests-kept': String(stats.manifestsKept),
          'manifests-replaced': String(stats.manifestsReplaced),
          'entries-processed': String(stats.entriesProcessed),
        }),
        schemaId: meta.currentSchemaId,
      };
      // Any commit to the branch in between (an append) fails this attempt; the retry
      // regroups the new head, so the concurrent commit's files are kept.
      return branchCommit(meta, this.branch, snapshot, attemptFiles);
    } catch (err) {
      for (const f of attemptFiles) await this.io.delete(f);
      throw err;
    }
  }
}

export async function rewriteManifests(catalog: Catalog, id: TableIdentifier, opts: { branch?: string; hooks?: CommitHooks } = {}): Promise<RewriteManifestsResult> {
  const branch = opts.branch ?? MAIN_BRANCH;
  const base = await catalog.loadTable(id);
  const head = branchHead(base.metadata, branch);
  const count = head ? (await snapshotManifests(catalog.io, head)).length : 0;
  if (count <= 1) {
    return {
      snapshotId: null, branch, manifestsCreated: 0, manifestsKept: count, manifestsReplaced: 0, entriesProcessed: 0,
      reason: head ? `branch '${branch}' has ${count} manifest${count === 1 ? '' : 's'}; nothing to rewrite` : `branch '${branch}' has no snapshot; nothing to rewrite`,
    };
  }
  const action = new RewriteManifests(catalog.io, { branch });
  const result = await commitWithRetry(catalog, id, action, { base, ...(opts.hooks ? { hooks: opts.hooks } : {}) });
  // The landed snapshot's own summary: right even when the commit was recognised after a lost answer.
  const n = (k: string): number => Number(result.snapshot.summary[k] ?? 0);
  return {
    snapshotId: result.snapshot.snapshotId, branch, manifestsCreated: n('manifests-created'), manifestsKept: n('manifests-kept'),
    manifestsReplaced: n('manifests-replaced'), entriesProcessed: n('entries-processed'),
  };
}
