// Manifest rewrite (Iceberg's RewriteManifests): one `replace` snapshot on a branch whose
// manifest list holds the same live entries regrouped — per partition spec, sorted by
// partition tuple, rolled at `commit.manifest.target-size-bytes` — so planners prune whole
// manifests again after many small commits. Data files are never touched; delete manifests
// are carried over unchanged.
import { InternalError, ValidationError } from '../errors.ts';
import { splitForUuidBounds } from '../format/manifest-writer.ts';
import type { FileIO } from '../io/file-io.ts';
import { EntryStatus, ManifestContent, type ManifestEntry, type ManifestFile, type PartitionTuple } from '../spec/data-file.ts';
import { partitionType } from '../spec/partition-spec.ts';
import { currentSchema, specById, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';
import { intProperty, MANIFEST_TARGET_SIZE_BYTES } from '../spec/table-properties.ts';
import type { PrimitiveValue } from '../spec/types.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { SnapshotProducer, type ManifestPlan, type ProducerFaultPoints, type SnapshotChanges } from './snapshot-producer.ts';
import { manifestEntries, writeTableManifest } from './table-manifests.ts';

export interface RewriteManifestsStats {
  /** Manifests written. */
  readonly manifestsCreated: number;
  /** Manifests left as they were. */
  readonly manifestsKept: number;
  /** Manifests replaced by the new ones. */
  readonly manifestsReplaced: number;
  /** Manifest entries copied. */
  readonly entriesProcessed: number;
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
    this.target = intProperty(meta, MANIFEST_TARGET_SIZE_BYTES);
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
      throw new ValidationError(`${MANIFEST_TARGET_SIZE_BYTES.name}=${this.target} is smaller than a manifest of one entry (${oneEntry} bytes)`);
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
    if (manifests.length !== 1) throw new InternalError(`manifest ${path} was split although its entries were split for uuid bounds`);
    return manifests[0]!;
  }

  private async discard(m: ManifestFile): Promise<void> {
    this.written.splice(this.written.indexOf(m.manifestPath), 1);
    await this.io.delete(m.manifestPath);
  }
}

export class RewriteManifests extends SnapshotProducer {
  protected override faultPoints(): ProducerFaultPoints {
    return { afterManifests: 'rewrite-manifests.after-manifests', afterManifestList: 'rewrite-manifests.after-manifest-list' };
  }

  protected async changes(_base: LoadedTable, parent: Snapshot | undefined): Promise<SnapshotChanges> {
    if (!parent) throw new ValidationError(`branch '${this.branch}' has no snapshot to rewrite`);
    // Nothing added or removed: the totals are the parent's, exactly.
    return { operation: 'replace' };
  }

  /** Every manifest is written for one attempt: its content depends on that base's head. Any
   * commit to the branch in between (an append) fails the attempt; the retry regroups the new
   * head, so the concurrent commit's files are kept. */
  protected override async planManifests(meta: TableMetadata, parentManifests: readonly ManifestFile[], _changes: SnapshotChanges, attempt: number): Promise<ManifestPlan> {
    const dataManifests = parentManifests.filter((m) => m.content === ManifestContent.Data);
    const deleteManifests = parentManifests.filter((m) => m.content !== ManifestContent.Data);
    const writer = new RollingManifests(this.io, meta, this.snapshotId, `${meta.location}/metadata/${this.commitUuid}-a${attempt}`);
    try {
      const entries: ManifestEntry[] = [];
      for (const m of dataManifests) entries.push(...await manifestEntries(this.io, m));
      const created: ManifestFile[] = [];
      let entriesProcessed = 0;
      for (const [specId, group] of regroupEntries(entries)) {
        entriesProcessed += group.length;
        created.push(...await writer.write(specId, group));
      }
      this.stats = {
        manifestsCreated: created.length, manifestsKept: deleteManifests.length,
        manifestsReplaced: dataManifests.length, entriesProcessed,
      };
      return { manifests: [...created, ...deleteManifests], attemptFiles: writer.written };
    } catch (err) {
      for (const f of writer.written) await this.io.delete(f);
      throw err;
    }
  }

  private stats: RewriteManifestsStats | undefined;

  protected override extraSummaryFor(): Record<string, string> {
    const s = this.stats;
    return s ? {
      'manifests-created': String(s.manifestsCreated), 'manifests-kept': String(s.manifestsKept),
      'manifests-replaced': String(s.manifestsReplaced), 'entries-processed': String(s.entriesProcessed),
    } : {};
  }
}
