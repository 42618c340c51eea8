// PendingWrites (src/io/pending-writes.ts): a commit's new files written side by side, their
// outcome reported once all have settled.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FileIOError } from '../../../src/errors.ts';
import type { FileIO } from '../../../src/io/file-io.ts';
import { PendingWrites } from '../../../src/io/pending-writes.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('PendingWrites', () => {
  test('settled() rejects with the first failure only once every write has settled', async () => {
    const done: string[] = [];
    const io = {
      writeNew: async (uri: string) => {
        if (uri === 'fast-fail') { await sleep(5); done.push(uri); throw new FileIOError('fast failure'); }
        await sleep(60);
        done.push(uri);
      },
    } as unknown as FileIO;
    const writes = new PendingWrites(io);
    writes.write('fast-fail', new Uint8Array(1));
    writes.write('slow-ok', new Uint8Array(1));
    await assert.rejects(writes.settled(), /fast failure/);
    assert.deepEqual(done, ['fast-fail', 'slow-ok']);
  });

  test('a nested set counts toward its parent, and whenDone runs only after success', async () => {
    const io = { writeNew: async () => { await sleep(10); } } as unknown as FileIO;
    const parent = new PendingWrites(io);
    const child = new PendingWrites(io, parent);
    const bytes = new Uint8Array([1, 2, 3]);
    child.write('a', bytes);
    assert.equal(parent.bytesOf('a'), bytes);
    const ran: string[] = [];
    parent.whenDone(() => ran.push('after a'));
    await parent.settled();
    assert.deepEqual(ran, ['after a']);

    const failing = new PendingWrites({ writeNew: async () => { throw new FileIOError('no'); } } as unknown as FileIO);
    failing.write('b', bytes);
    failing.whenDone(() => ran.push('after b'));
    await assert.rejects(failing.settled(), /no/);
    assert.deepEqual(ran, ['after a']);
  });
});
