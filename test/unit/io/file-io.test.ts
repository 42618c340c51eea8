// The FileIO contract, run on both implementations: atomic creation that never replaces an
// existing file (metadata files must never be overwritten), NotFoundError on missing reads,
// idempotent delete, recursive listing; and literal `file:` paths for the local one.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileIoContract } from '../../support/file-io-contract.ts';
import { LocalFileIO, pathToUri, uriToPath } from '../../../src/io/local-file-io.ts';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';

fileIoContract('in-memory', () => ({ io: new MemoryFileIO(), root: 'mem://wh', cleanup: () => undefined }));
fileIoContract('local', () => {
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

test('local writeNew: a multi-megabyte file lands whole, in an existing or a new folder; a second write of the name fails and leaves the first', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-io-'));
  try {
    const io = new LocalFileIO();
    // Bigger than the 512 KiB pieces FileHandle.writeFile uses, with a pattern a lost or
    // repeated piece would break.
    const big = new Uint8Array(5 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >>> 12)) & 0xff;
    await io.writeNew(`file://${dir}/metadata/00001-a.metadata.json`, big); // folder made on the way
    await io.writeNew(`file://${dir}/metadata/00002-b.metadata.json`, big.subarray(3)); // folder exists
    assert.deepStrictEqual(await io.read(`file://${dir}/metadata/00001-a.metadata.json`), big);
    assert.deepStrictEqual(await io.read(`file://${dir}/metadata/00002-b.metadata.json`), big.slice(3));
    await assert.rejects(io.writeNew(`file://${dir}/metadata/00001-a.metadata.json`, new Uint8Array([1])), { name: 'AlreadyExistsError' });
    assert.deepStrictEqual(await io.read(`file://${dir}/metadata/00001-a.metadata.json`), big);
    assert.deepStrictEqual(readdirSync(path.join(dir, 'metadata')).sort(), ['00001-a.metadata.json', '00002-b.metadata.json'], 'no temp file left');
    // A folder that cannot be made (a file is in the way) is a FileIOError naming the file.
    await io.writeNew(`file://${dir}/blocker`, new Uint8Array([1]));
    await assert.rejects(io.writeNew(`file://${dir}/blocker/x.avro`, new Uint8Array([1])), (err: Error) => err.name === 'FileIOError' && err.message.includes('blocker/x.avro'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
