// File identity for resumable file sources: the recorded position resumes the same file and
// a file that was appended to; a truncated, rewritten or replaced file is refused; the
// position and fingerprint round-trip through a snapshot summary.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { FileReplacedError, FileSource, fingerprintSummary, recordedFilePosition, type RecordedFilePosition } from '../../../src/ingest/file-source.ts';
import { offsetsSummary } from '../../../src/ingest/source-offsets.ts';
import type { TableMetadata } from '../../../src/spec/table-metadata.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-file-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const body = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => `{"id":${from + i},"pad":"${'x'.repeat(40)}"}\n`).join('');

async function positionAt(file: string, offset: bigint, nextLine: number): Promise<RecordedFilePosition> {
  const src = await FileSource.open(file);
  try {
    return { offset, fingerprint: await src.fingerprintAt(offset, nextLine), snapshotId: 7n };
  } finally {
    await src.close();
  }
}

async function resume(file: string, pos: RecordedFilePosition | undefined) {
  const src = await FileSource.open(file);
  try { return await src.resumeFrom(pos); } finally { await src.close(); }
}

test('same file resumes; appended-to file resumes at the offset; a finished file is finished', async () => {
  const f = path.join(dir, 'a.ndjson');
  writeFileSync(f, body(0, 3000));
  const size = BigInt(Buffer.byteLength(body(0, 3000)));
  const mid = BigInt(Buffer.byteLength(body(0, 1700)));
  assert.deepEqual(await resume(f, undefined), { offset: 0n, line: 1, finished: false, sameInode: true });
  const atMid = await positionAt(f, mid, 1701);
  assert.deepEqual(await resume(f, atMid), { offset: mid, line: 1701, finished: false, sameInode: true });
  const atEnd = await positionAt(f, size, 3001);
  assert.deepEqual(await resume(f, atEnd), { offset: size, line: 3001, finished: true, sameInode: true });
  appendFileSync(f, body(3000, 3100));
  assert.deepEqual(await resume(f, atEnd), { offset: size, line: 3001, finished: false, sameInode: true });
  // A copy (new inode, same bytes) is the same source; a symlink names the same canonical file.
  const copy = path.join(dir, 'a-copy.ndjson');
  copyFileSync(f, copy);
  assert.equal((await resume(copy, atEnd)).sameInode, false);
  symlinkSync(f, path.join(dir, 'link.ndjson'));
  const viaLink = await FileSource.open(path.join(dir, 'link.ndjson'));
  const direct = await FileSource.open(f);
  assert.equal(viaLink.sourceId, direct.sourceId);
  await viaLink.close();
  await direct.close();
});

test('truncated, rewritten in the middle, or replaced: refused', async () => {
  const f = path.join(dir, 'b.ndjson');
  writeFileSync(f, body(0, 3000));
  const end = BigInt(Buffer.byteLength(body(0, 3000)));
  const pos = await positionAt(f, end, 3001);
  writeFileSync(f, body(0, 1000));
  await assert.rejects(resume(f, pos), (e: unknown) => e instanceof FileReplacedError && /has \d+ bytes, the recorded position is byte \d+/.test(e.message));
  writeFileSync(f, body(0, 2999).replace('"id":2998', '"id":2997') + body(2999, 3000));
  await assert.rejects(resume(f, pos), /the 65536 bytes before byte \d+ differ/);
  writeFileSync(`${f}.new`, body(5000, 9000));
  renameSync(`${f}.new`, f);
  await assert.rejects(resume(f, pos), /its first 65536 bytes differ/);
});

test('position and fingerprint round-trip through snapshot summaries, newest first', async () => {
  const f = path.join(dir, 'c.ndjson');
  writeFileSync(f, body(0, 10));
  const src = await FileSource.open(f);
  const fp = await src.fingerprintAt(120n, 3);
  await src.close();
  const summary = (next: bigint) => ({ operation: 'append', ...offsetsSummary(src.sourceId, new Map([[0, { start: 0n, next }]])), ...fingerprintSummary(src.sourceId, fp) });
  const m = {
    refs: { main: { snapshotId: 2n, type: 'branch' } },
    snapshots: [
      { snapshotId: 1n, parentSnapshotId: null, summary: summary(60n) },
      { snapshotId: 2n, parentSnapshotId: 1n, summary: { operation: 'append' } },
    ],
  } as unknown as TableMetadata;
  assert.deepEqual(recordedFilePosition(m, 'main', src.sourceId), { offset: 60n, fingerprint: fp, snapshotId: 1n });
  assert.equal(recordedFilePosition(m, 'main', 'file:///elsewhere'), undefined);
});
