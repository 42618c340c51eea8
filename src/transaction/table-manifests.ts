// Reading and writing a table's manifests with the table's own schema and spec bound in:
// the one place that knows which JSON goes into a manifest's key-value metadata.
import type { FileIO } from '../io/file-io.ts';
import { readManifest, readManifestList } from '../format/manifest-reader.ts';
import { writeManifest, type WrittenManifest } from '../format/manifest-writer.ts';
import { stringifyJsonExact } from '../spec/json.ts';
import { ManifestContent, type ManifestEntry, type ManifestFile } from '../spec/data-file.ts';
import { partitionFieldsToJson, partitionType } from '../spec/partition-spec.ts';
import { schemaToJson } from '../spec/schema.ts';
import { currentSchema, specById, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';

export async function snapshotManifests(io: FileIO, snapshot: Snapshot | undefined): Promise<ManifestFile[]> {
  if (!snapshot) return [];
  return readManifestList(await io.read(snapshot.manifestList));
}

export async function manifestEntries(io: FileIO, manifest: ManifestFile): Promise<ManifestEntry[]> {
  return readManifest(await io.read(manifest.manifestPath), manifest).entries;
}

/** Writes a data manifest for `specId` with the table's current schema, and stores it. */
export async function writeTableManifest(opts: {
  io: FileIO; metadata: TableMetadata; path: string; specId: number; entries: readonly ManifestEntry[];
  addedSnapshotId: bigint; content?: ManifestContent;
}): Promise<WrittenManifest> {
  const schema = currentSchema(opts.metadata);
  const spec = specById(opts.metadata, opts.specId);
  const written = writeManifest({
    path: opts.path,
    entries: opts.entries,
    content: opts.content ?? ManifestContent.Data,
    specId: spec.specId,
    partitionFields: partitionType(spec, schema).map((f) => ({ name: f.name, fieldId: f.fieldId, type: f.type })),
    schemaJson: stringifyJsonExact(schemaToJson(schema)),
    schemaId: schema.schemaId,
    partitionSpecJson: stringifyJsonExact(partitionFieldsToJson(spec)),
    addedSnapshotId: opts.addedSnapshotId,
  });
  await opts.io.writeNew(opts.path, written.bytes);
  return written;
}
