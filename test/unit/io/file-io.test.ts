// The FileIO contract, run on both implementations: atomic creation that never replaces an
// existing file (metadata files must never be overwritten), NotFoundError on missing reads,
// idempotent delete, recursive listing; and literal `file:` paths for the local one.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AlreadyExistsError, NotFoundError } from '../../../src/errors.ts';
import type { FileIO } from '../../../src/io/file-io.ts';
import { LocalFileIO, pathToUri, uriToPath } from '../../../src/io/local-file-io.ts';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';

function contract(name: string, make: () => { io: FileIO; root: string; cleanup: () => void }): void {
  describe(`${name} FileIO contract`, () => {
    test('writeNew creates once, never overwrites; read returns the bytes', async () => {
      const { io, root, cleanup } = make();
      try {
        const uri = `${root}/t/metadata/00000-a.metadata.json`;
        await io.writeNew(uri, new TextEncoder().encode('first'));
        await assert.rejects(io.writeNew(uri, new TextEncoder().encode('second')), AlreadyExistsError);
        assert.equal(new TextDecoder().decode(await io.read(uri)), 'first');
        assert.equal(await io.exists(uri), true);
      } finally { cleanup(); }
    });

    test('createNew streams a file that appears whole only at close, never over an existing one', async () => {
      const { io, root, cleanup } = make();
      try {
        const uri = `${root}/t/data/big.parquet`;
        const out = await io.createNew(uri);
        await out.write(new Uint8Array([1, 2]));
        await out.write(new Uint8Array([3]));
        assert.equal(await io.exists(uri), false, 'invisible before close');
        assert.equal(await out.close(), 3);
        assert.deepStrictEqual([...await io.read(uri)], [1, 2, 3]);
        assert.deepStrictEqual([...new Uint8Array(await (await io.openBlob(uri)).slice(1, 3).arrayBuffer())], [2, 3]);
        await assert.rejects(async () => { const again = await io.createNew(uri); await again.write(new Uint8Array([9])); await again.close(); }, AlreadyExistsError);
        assert.deepStrictEqual([...await io.read(uri)], [1, 2, 3]);
        const dropped = await io.createNew(`${root}/t/data/dropped.parquet`);
        await dropped.write(new Uint8Array([7]));
        await dropped.abort();
        assert.equal(await io.exists(`${root}/t/data/dropped.parquet`), false);
        assert.deepStrictEqual((await io.list(`${root}/t/`)).map((f) => f.uri.slice(root.length)), ['/t/data/big.parquet'], 'no temp file left');
      } finally { cleanup(); }
    });

    test('missing files: read fails with NotFoundError, delete is a no-op', async () => {
      const { io, root, cleanup } = make();
      try {
        await assert.rejects(io.read(`${root}/nope`), NotFoundError);
        assert.equal(await io.exists(`${root}/nope`), false);
        await io.delete(`${root}/nope`);
      } finally { cleanup(); }
    });

    test('list is recursive under a prefix; delete removes', async () => {
      const { io, root, cleanup } = make();
      try {
        for (const f of ['a/x.parquet', 'a/b/y.parquet', 'c/z.parquet']) await io.writeNew(`${root}/${f}`, new Uint8Array([1, 2, 3]));
        const listed = (await io.list(`${root}/a/`)).map((f) => f.uri.slice(root.length)).sort();
        assert.deepStrictEqual(listed, ['/a/b/y.parquet', '/a/x.parquet']);
        assert.ok((await io.list(`${root}/a/`)).every((f) => f.size === 3));
        await io.delete(`${root}/a/x.parquet`);
        assert.equal(await io.exists(`${root}/a/x.parquet`), false);
      } finally { cleanup(); }
    });
  });
}

contract('in-memory', () => ({ io: new MemoryFileIO(), root: 'mem://wh', cleanup: () => undefined }));
contract('local', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-io-'));
  return { io: new LocalFileIO(), root: pathToUri(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

test('local paths are taken literally (readers do not percent-decode) and leave no temp files', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-io-'));
  try {
    const uri = `file://${dir}/data/s=hello%20world/f.parquet`;
    await new LocalFileIO().writeNew(uri, new Uint8Array([7]));
    assert.deepStrictEqual(readdirSync(path.join(dir, 'data')), ['s=hello%20world']);
    assert.deepStrictEqual(readdirSync(path.join(dir, 'data', 's=hello%20world')), ['f.parquet']);
    assert.equal(uriToPath('file:/abs/x'), '/abs/x');
    assert.equal(uriToPath('file:///abs/x'), '/abs/x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
