// Fast append on a named branch: one new manifest for the new data files (written once and
// reused by every retry, its sequence number inherited), the parent's manifests carried over
// (merged when configured), a new manifest list per attempt. Appends never conflict, so a
// retry only re-bases on the new head.
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { faultPoint } from '../fault-points.ts';
import { EntryStatus, type DataFile, type ManifestFile } from '../spec/data-file.ts';
import { writeManifestList } from '../format/manifest-list-writer.ts';
import { branchHead, MAIN_BRANCH, type Snapshot } from '../spec/table-metadata.ts';
import type { LoadedTable } from '../table/catalog.ts';
import type { FileIO } from '../io/file-io.ts';
import { mergeManifests } from './manifest-merge.ts';
import { newSnapshotId } from './snapshot-id.ts';
import { addFile, buildSummary, emptyDelta } from './snapshot-summary.ts';
import { branchCommit, parentTotals, type PreparedSnapshot, type SnapshotAction } from './snapshot-action.ts';
import { snapshotManifests, writeTableManifest } from './table-manifests.ts';

export class FastAppend implements SnapshotAction {
  readonly snapshotId: bigint;
  readonly branch: string;
  private readonly commitUuid = randomUUID();
  private newManifests: ManifestFile[] | undefined;
  private readonly written: string[] = [];

  constructor(
    private readonly io: FileIO,
    private readonly files: readonly DataFile[],
    opts: {
      branch?: string; summary?: Readonly<Record<string, string>>; snapshotId?: bigint;
      /** Checked against every base before an attempt is built (e.g. source offsets not yet
       * committed by another writer); throwing aborts the commit for good. */
      validate?: (base: LoadedTable, branch: string) => void;
    } = {},
  ) {
    if (files.length === 0) throw new ValidationError('an append needs at least one data file');
    this.branch = opts.branch ?? MAIN_BRANCH;
    this.snapshotId = opts.snapshotId ?? newSnapshotId();
    this.summaryExtra = opts.summary ?? {};
    this.validate = opts.validate;
  }
  private readonly summaryExtra: Readonly<Record<string, string>>;
  private readonly validate: ((base: LoadedTable, branch: string) => void) | undefined;

  sharedFiles(): readonly string[] { return this.written; }

  private async writeNewManifests(base: LoadedTable): Promise<ManifestFile[]> {
    if (this.newManifests) return this.newManifests;
    const bySpec = new Map<number, DataFile[]>();
    for (const f of this.files) {
      const list = bySpec.get(f.specId) ?? [];
      list.push(f);
      bySpec.set(f.specId, list);
    }
    const out: ManifestFile[] = [];
    for (const [specId, files] of bySpec) {
      const path = `${base.metadata.location}/metadata/${this.commitUuid}-m${out.length}.avro`;
      const { manifests, paths } = await writeTableManifest({
        io: this.io, metadata: base.metadata, path, specId, addedSnapshotId: this.snapshotId,
        entries: files.map((dataFile) => ({ status: EntryStatus.Added, snapshotId: this.snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile })),
      });
      this.written.push(...paths);
      out.push(...manifests);
    }
    this.newManifests = out;
    faultPoint('append.after-manifest');
    return out;
  }

  async prepare(base: LoadedTable, attempt: number): Promise<PreparedSnapshot> {
    this.validate?.(base, this.branch);
    const meta = base.metadata;
    const parent = branchHead(meta, this.branch);
    const sequenceNumber = meta.lastSequenceNumber + 1n;
    const newManifests = await this.writeNewManifests(base);
    const parentManifests = await snapshotManifests(this.io, parent);
    const merged = await mergeManifests({
      io: this.io, metadata: meta, manifests: [...newManifests, ...parentManifests], snapshotId: this.snapshotId,
      pathFor: (i) => `${meta.location}/metadata/${this.commitUuid}-a${attempt}-merged-m${i}.avro`,
    });
    const listPath = `${meta.location}/metadata/snap-${this.snapshotId}-${attempt}-${this.commitUuid}.avro`;
    const attemptFiles = [...merged.written];
    try {
      await this.io.writeNew(listPath, writeManifestList({
        manifests: merged.manifests, snapshotId: this.snapshotId,
        parentSnapshotId: parent?.snapshotId ?? null, sequenceNumber,
      }));
      attemptFiles.push(listPath);
      faultPoint('append.after-manifest-list');
    } catch (err) {
      for (const f of attemptFiles) await this.io.delete(f);
      throw err;
    }
    const delta = emptyDelta();
    for (const f of this.files) addFile(delta, f);
    const totals = await parentTotals(this.io, parent, parentManifests);
    const snapshot: Snapshot = {
      snapshotId: this.snapshotId,
      parentSnapshotId: parent?.snapshotId ?? null,
      sequenceNumber,
      timestampMs: Date.now(),
      manifestList: listPath,
      summary: buildSummary('append', delta, totals, this.summaryExtra),
      schemaId: meta.currentSchemaId,
    };
    return branchCommit(meta, this.branch, snapshot, attemptFiles);
  }
}
