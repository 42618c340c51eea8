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
