// The FileIO contract every implementation passes (in-memory, local, S3): atomic creation that
// never replaces an existing file (metadata files must never be overwritten), NotFoundError on
// missing reads, idempotent delete, recursive listing, ranged reads.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlreadyExistsError, NotFoundError } from '../../src/errors.ts';
import type { FileIO } from '../../src/io/file-io.ts';

export interface FileIoUnderTest { io: FileIO; root: string; cleanup: () => void | Promise<void> }

export function fileIoContract(name: string, make: () => FileIoUnderTest | Promise<FileIoUnderTest>): void {
  describe(`${name} FileIO contract`, () => {
    test('writeNew creates once, never overwrites; read returns the bytes', async () => {
      const { io, root, cleanup } = await make();
      try {
        const uri = `${root}/t/metadata/00000-a.metadata.json`;
        await io.writeNew(uri, new TextEncoder().encode('first'));
        await assert.rejects(io.writeNew(uri, new TextEncoder().encode('second')), AlreadyExistsError);
        assert.equal(new TextDecoder().decode(await io.read(uri)), 'first');
        assert.equal(await io.exists(uri), true);
      } finally { await cleanup(); }
    });

    test('createNew streams a file that appears whole only at close, never over an existing one', async () => {
      const { io, root, cleanup } = await make();
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
      } finally { await cleanup(); }
    });

    test('missing files: read fails with NotFoundError, delete is a no-op', async () => {
      const { io, root, cleanup } = await make();
      try {
        await assert.rejects(io.read(`${root}/nope`), NotFoundError);
        assert.equal(await io.exists(`${root}/nope`), false);
        await io.delete(`${root}/nope`);
      } finally { await cleanup(); }
    });

    test('list is recursive under a prefix; delete removes', async () => {
      const { io, root, cleanup } = await make();
      try {
        for (const f of ['a/x.parquet', 'a/b/y.parquet', 'c/z.parquet']) await io.writeNew(`${root}/${f}`, new Uint8Array([1, 2, 3]));
        const listed = (await io.list(`${root}/a/`)).map((f) => f.uri.slice(root.length)).sort();
        assert.deepStrictEqual(listed, ['/a/b/y.parquet', '/a/x.parquet']);
        assert.ok((await io.list(`${root}/a/`)).every((f) => f.size === 3));
        await io.delete(`${root}/a/x.parquet`);
        assert.equal(await io.exists(`${root}/a/x.parquet`), false);
      } finally { await cleanup(); }
    });
  });
}

