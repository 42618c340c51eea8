// Every manifest floe writes carries partition summaries (Trino's $manifests fails with a
// NullPointerException without them), also for identity(uuid) partitions whose values order
// differently under Java's signed UUID compare and the spec's unsigned bytes: such entries are
// split over manifests so that each gets exact bounds both orders agree on. Read back with
// floe's reader and, when the venv is there, pyiceberg's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeManifestList } from '../../../src/format/manifest-list-writer.ts';
import { readManifestList } from '../../../src/format/manifest-reader.ts';
import { LocalFileIO } from '../../../src/io/local-file-io.ts';
import { EntryStatus, FileContent, type ManifestEntry } from '../../../src/spec/data-file.ts';
import { parsePartitionExpression } from '../../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { newTableMetadata } from '../../../src/spec/table-metadata.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { manifestEntries, snapshotManifests, writeTableManifest } from '../../../src/transaction/table-manifests.ts';
import { testWarehouse } from '../../support/warehouse.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const venv = process.env.FLOE_VENV ?? join(repoRoot, '.venv');
const python = join(venv, 'bin/python');
const script = join(repoRoot, 'test/interop/read_manifest_with_pyiceberg.py');
const inCi = process.env.CI === 'true';

const schema = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'u', required: false, type: 'uuid' },
] }, { assignIds: true });

const SNAPSHOT_ID = 9223372036854775707n;
const UUIDS = [
  '7f000000000000000000000000000000', // positive high half for Java
  '80000000000000000000000000000000', // negative high half for Java, larger unsigned
  '00000000000000008000000000000000', // negative low half
  '00000000000000000000000000000001',
  'ff00000000000000ff00000000000000',
];

function entry(i: number, hex: string | null): ManifestEntry {
  return {
    status: EntryStatus.Added, snapshotId: null, sequenceNumber: null, fileSequenceNumber: null,
    dataFile: {
      content: FileContent.Data, filePath: `/x/data/f${i}.parquet`, fileFormat: 'parquet', specId: 0,
      partition: [hex === null ? null : Uint8Array.from(Buffer.from(hex, 'hex'))],
      recordCount: 1n, fileSizeInBytes: 100n, sortOrderId: null,
    },
  };
}

/** java.util.UUID.compareTo. */
function javaCompare(a: Buffer, b: Buffer): number {
  for (const at of [0, 8]) {
    const x = a.readBigInt64BE(at); const y = b.readBigInt64BE(at);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

describe('manifests with uuid partitions always carry summaries', () => {
  it('splits disagreeing uuid values over manifests whose bounds hold in both orders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-uuid-summaries-'));
    try {
      const io = new LocalFileIO();
      const metadata = newTableMetadata({ location: dir, schema, spec: parsePartitionExpression('u', schema) });
      const entries = [...UUIDS.map((u, i) => entry(i, u)), entry(UUIDS.length, null)];
      const written = await writeTableManifest({ io, metadata, path: join(dir, 'm0.avro'), specId: 0, entries, addedSnapshotId: SNAPSHOT_ID });
      assert.equal(written.paths[0], join(dir, 'm0.avro'));
      assert.equal(written.manifests.length, written.paths.length);
      assert.ok(written.manifests.length > 1);

      const listPath = join(dir, 'snap.avro');
      await io.writeNew(listPath, writeManifestList({ manifests: written.manifests, snapshotId: SNAPSHOT_ID, parentSnapshotId: null, sequenceNumber: 1n }));
      const listed = readManifestList(await io.read(listPath));
      let files = 0;
      for (const manifest of listed) {
        assert.ok(manifest.partitions !== null, `${manifest.manifestPath} has no partition summaries`);
        const [summary] = manifest.partitions;
        const values = (await manifestEntries(io, manifest)).map((e) => e.dataFile.partition[0]);
        files += values.length;
        const present = values.filter((v): v is Uint8Array => v instanceof Uint8Array).map((v) => Buffer.from(v));
        assert.equal(summary!.containsNull, values.some((v) => v === null));
        if (present.length === 0) { assert.equal(summary!.lowerBound, null); continue; }
        const lower = Buffer.from(summary!.lowerBound!); const upper = Buffer.from(summary!.upperBound!);
        for (const v of present) {
          // Both pyiceberg/DuckDB (unsigned bytes) and Java (signed halves) must see v within the bounds.
          assert.ok(Buffer.compare(lower, v) <= 0 && Buffer.compare(v, upper) <= 0, `unsigned: ${v.toString('hex')}`);
          assert.ok(javaCompare(lower, v) <= 0 && javaCompare(v, upper) <= 0, `java: ${v.toString('hex')}`);
        }
      }
      assert.equal(files, entries.length);

      if (existsSync(python) || inCi) {
        const read = JSON.parse(execFileSync(python, [script, listPath], { encoding: 'utf8' })) as { partitions: unknown[] | null }[];
        assert.equal(read.length, listed.length);
        for (const [i, m] of read.entries()) {
          assert.deepEqual(m.partitions, listed[i]!.partitions!.map((s) => ({
            contains_null: s.containsNull, contains_nan: s.containsNan,
            lower_bound: s.lowerBound === null ? null : `b:${Buffer.from(s.lowerBound).toString('hex')}`,
            upper_bound: s.upperBound === null ? null : `b:${Buffer.from(s.upperBound).toString('hex')}`,
          })));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps agreeing uuid values in one manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-uuid-summaries-'));
    try {
      const metadata = newTableMetadata({ location: dir, schema, spec: parsePartitionExpression('u', schema) });
      const written = await writeTableManifest({
        io: new LocalFileIO(), metadata, path: join(dir, 'm0.avro'), specId: 0, addedSnapshotId: SNAPSHOT_ID,
        entries: [entry(0, UUIDS[0]!), entry(1, UUIDS[3]!), entry(2, null)],
      });
      assert.equal(written.manifests.length, 1);
      assert.ok(written.manifests[0]!.partitions !== null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an append to an identity(uuid) table lists only manifests with summaries (floe and pyiceberg)', async () => {
    const wh = await testWarehouse();
    try {
      const id = { namespace: ['u'], name: 't' };
      await wh.catalog.createNamespace(['u']);
      await wh.catalog.createTable(id, { schema, spec: parsePartitionExpression('u', schema) });
      const hex = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      await appendRecords(wh.catalog, id, UUIDS.map((u, i) => ({ id: i, u: hex(u) })));
      const t = await wh.catalog.loadTable(id);
      const snapshot = t.metadata.snapshots.at(-1)!;
      const listed = await snapshotManifests(wh.catalog.io, snapshot);
      assert.ok(listed.length > 0);
      for (const m of listed) {
        assert.ok(m.partitions !== null, `${m.manifestPath} has no partition summaries`);
        assert.ok(m.partitions[0]!.lowerBound !== null);
      }
      if (existsSync(python) || inCi) {
        const read = JSON.parse(execFileSync(python, [script, snapshot.manifestList.replace(/^file:\/\//, '')], { encoding: 'utf8' })) as { partitions: unknown[] | null }[];
        assert.equal(read.length, listed.length);
        for (const m of read) assert.ok(Array.isArray(m.partitions) && m.partitions.length === 1);
      }
    } finally {
      await wh.cleanup();
    }
  });
});
