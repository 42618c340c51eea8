// The rewriter applies equality deletes (RewriteInput.equalityDeletes) together with position
// deletes: a row goes when its key values are in a delete's key set, nulls match nulls, several
// key sets (different equality ids) each apply; checked against a model with fast-check.
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { test } from 'node:test';
import fc from 'fast-check';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';
import { equalityKey } from '../../../src/reader/delete-index.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { rewriteDataFiles } from '../../../src/writer/data-file-rewriter.ts';
import { DataFileWriter } from '../../../src/writer/data-file-writer.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'name', required: false, type: 'string' },
  ],
}, { assignIds: true });
const SPEC = { specId: 0, fields: [] };
const LOCATION = 'mem://wh/t';
const nameOf = (i: number): string | null => (i % 4 === 0 ? null : `n${i % 9}`);

async function outputIds(io: MemoryFileIO, paths: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of paths) {
    const t = arrow.tableFromIPC(parquet.readParquet(await io.read(p)).intoIPCStream());
    out.push(...[...t.getChild('id')!].map(Number));
  }
  return out;
}

test('property: equality and position deletes drop exactly the matching rows', async () => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 9000 }),
    fc.uniqueArray(fc.integer({ min: 0, max: 12_000 }), { maxLength: 30 }),
    fc.uniqueArray(fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 9 }).map((i) => `n${i}`)), { maxLength: 3 }),
    fc.uniqueArray(fc.integer({ min: 0, max: 9000 }), { maxLength: 20 }),
    async (files, rowsPerFile, deletedIds, deletedNames, positions) => {
      const io = new MemoryFileIO();
      const writer = new DataFileWriter({ schema: SCHEMA, spec: SPEC, properties: {}, location: LOCATION, io });
      const written = [];
      for (let f = 0; f < files; f++) {
        written.push(...await writer.write(Array.from({ length: rowsPerFile }, (_, i) => ({ id: f * rowsPerFile + i, name: nameOf(f * rowsPerFile + i) }))));
      }
      const byId = { fieldIds: [1], keys: new Set(deletedIds.map((i) => equalityKey([BigInt(i)]))) };
      const byName = { fieldIds: [2], keys: new Set(deletedNames.map((n) => equalityKey([n]))) };
      const inFile = positions.filter((p) => p < rowsPerFile).sort((a, b) => a - b);
      const r = await rewriteDataFiles(written.map((file, f) => ({
        file, equalityDeletes: [byId, byName], ...(f === 0 ? { deletedPositions: inFile } : {}),
      })), { io, schema: SCHEMA, spec: SPEC, location: LOCATION, properties: {}, targetFileSizeBytes: 64 * 1024 * 1024 });
      const want = Array.from({ length: files * rowsPerFile }, (_, i) => i)
        .filter((i) => !deletedIds.includes(i) && !deletedNames.includes(nameOf(i)) && !(i < rowsPerFile && inFile.includes(i)));
      assert.deepStrictEqual(await outputIds(io, r.files.map((f) => f.filePath)), want);
      assert.equal(r.rowsDeleted, files * rowsPerFile - want.length);
      assert.equal(r.files.reduce((n, f) => n + f.recordCount, 0n), BigInt(want.length));
    },
  ), { seed: 424242, numRuns: 25 });
});
