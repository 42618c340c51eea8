// The micro-batcher's flush triggers, ordering, memory bound and adaptive window.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MicroBatcher, type Batch, type BatcherConfig } from '../../../src/ingest/micro-batcher.ts';

const cfg = (o: Partial<BatcherConfig> = {}): BatcherConfig => ({ windowMs: 50, maxRecords: 5, maxBytes: 1000, bufferLimitBytes: 2000, ...o });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until `done` (timers on a loaded machine fire late: no fixed sleep decides a test). */
async function waitUntil(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await sleep(5); }
}

describe('MicroBatcher', () => {
  test('flushes on count, bytes, time and shutdown, in order, with the reason', async () => {
    const seen: Batch<number>[] = [];
    const b = new MicroBatcher<number>(cfg(), async (batch) => { seen.push(batch); });
    for (let i = 0; i < 5; i++) b.add(i, 10);          // count
    b.add(5, 600); b.add(6, 600);                        // bytes
    b.add(7, 1);
    await sleep(120);                                    // time
    b.add(8, 1);
    await b.close();                                     // shutdown
    assert.deepStrictEqual(seen.map((s) => [s.reason, s.items]), [
      ['count', [0, 1, 2, 3, 4]], ['bytes', [5, 6]], ['time', [7]], ['shutdown', [8]],
    ]);
  });

  test('full while buffered + in-flight bytes exceed the limit; drained() waits for the sink', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const b = new MicroBatcher<number>(cfg({ maxBytes: 1500, bufferLimitBytes: 1500 }), async () => { await gate; });
    b.add(1, 1600);                                      // bytes flush, stuck in the sink
    assert.equal(b.full, true);
    let drained = false;
    const wait = b.drained().then(() => { drained = true; });
    await sleep(20);
    assert.equal(drained, false);
    release();
    await wait;
    assert.equal(b.full, false);
    await b.close();
  });

  test('batches queued behind the committing one count in the byte limit, not as a number: small batches may queue until the bytes are reached', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const seen: number[][] = [];
    const b = new MicroBatcher<number>(cfg({ maxRecords: 2, bufferLimitBytes: 500 }), async (batch) => { await gate; seen.push(batch.items); });
    b.add(1, 100); b.add(2, 100);                        // batch 1 flushed (count), its commit stuck
    b.add(3, 100); b.add(4, 100);                        // batch 2 flushed, queued behind it
    assert.equal(b.batchesInFlight, 2);
    assert.equal(b.full, false, '400 bytes held, limit 500: a third batch may fill');
    b.add(5, 100);
    assert.equal(b.full, true, 'committing + queued + open bytes reach the limit');
    const wait = b.drained();
    release();
    await wait;
    await b.close();
    assert.deepStrictEqual(seen, [[1, 2], [3, 4], [5]]);
    assert.equal(b.batchesInFlight, 0);
  });

  test('a failed flush surfaces on the next add and on close, and later batches are not flushed', async () => {
    const seen: number[][] = [];
    const b = new MicroBatcher<number>(cfg({ maxRecords: 1 }), async (batch) => {
      if (batch.items[0] === 1) throw new Error('sink down');
      seen.push(batch.items);
    });
    b.add(1, 1);
    await sleep(10);
    assert.throws(() => b.add(2, 1), /sink down/);
    await assert.rejects(b.close(), /sink down/);
    assert.deepStrictEqual(seen, []);
  });

  test('a flush that fails for good is reported once, as it happens, with no further add needed (a Kafka source offers nothing more to a stalled pipeline)', async () => {
    const failures: unknown[] = [];
    const b = new MicroBatcher<number>(cfg({ maxRecords: 2 }), async () => { throw new Error('S3 gone'); }, (err) => failures.push(err));
    b.add(1, 1); b.add(2, 1);                            // count flush, fails
    b.add(3, 1);                                         // still buffered before the failure lands
    await sleep(10);
    assert.deepStrictEqual(failures.map((e) => (e as Error).message), ['S3 gone']);
    await assert.rejects(b.close(), /S3 gone/);
    assert.equal(failures.length, 1, 'reported once, not again for the batch closed after it');
  });

  test('adaptive window widens on slow or conflicting commits and narrows when healthy', async () => {
    let outcome = { commitMs: 40, conflicts: 0 };
    const b = new MicroBatcher<number>(cfg({ windowMs: 40, maxRecords: 1, adaptive: { minWindowMs: 20, maxWindowMs: 100 } }), async () => outcome);
    b.add(1, 1); await b.flush('count');
    assert.equal(b.windowMs, 60);
    outcome = { commitMs: 1, conflicts: 2 };
    for (let i = 0; i < 5; i++) { b.add(i, 1); await b.flush('count'); }
    assert.equal(b.windowMs, 100, 'capped at maxWindowMs');
    outcome = { commitMs: 1, conflicts: 0 };
    for (let i = 0; i < 40; i++) { b.add(i, 1); await b.flush('count'); }
    assert.equal(b.windowMs, 20, 'floored at minWindowMs');
  });

  test('caught up: a batch at least caughtUpFlushMs old flushes at once with reason caught-up; a younger one when it reaches that age', async () => {
    const seen: Batch<number>[] = [];
    const b = new MicroBatcher<number>(cfg({ windowMs: 10_000, maxRecords: 100, caughtUpFlushMs: 60 }), async (batch) => { seen.push(batch); });
    b.add(1, 1);
    b.setCaughtUp(true);                                 // too young: waits for 60 ms, not 10 s
    assert.equal(seen.length, 0);
    await waitUntil(() => seen.length === 1, 'the caught-up flush');
    assert.deepStrictEqual(seen.map((s) => [s.reason, s.items]), [['caught-up', [1]]]);
    b.setCaughtUp(false);
    b.add(2, 1);
    await sleep(100);                                    // old enough, but the source is behind
    assert.equal(seen.length, 1);
    b.setCaughtUp(true);                                 // now caught up: flushed at once
    await waitUntil(() => seen.length === 2, 'the second caught-up flush', 1000);
    assert.deepStrictEqual(seen.map((s) => [s.reason, s.items]), [['caught-up', [1]], ['caught-up', [2]]]);
    await b.close();
  });

  test('caught up: behind again before the minimum age means the batch waits (for more records or its window)', async () => {
    const seen: Batch<number>[] = [];
    const b = new MicroBatcher<number>(cfg({ windowMs: 300, maxRecords: 100, caughtUpFlushMs: 50 }), async (batch) => { seen.push(batch); });
    b.setCaughtUp(true);
    b.add(1, 1);
    b.setCaughtUp(false);
    await sleep(120);
    assert.equal(seen.length, 0, 'not flushed while the source is behind');
    await waitUntil(() => seen.length === 1, 'the time flush');
    assert.deepStrictEqual(seen.map((s) => s.reason), ['time']);
    await b.close();
  });

  test('caught up: the default minimum is half the window; caughtUpFlushMs ≥ windowMs never flushes early', async () => {
    const seen: Batch<number>[] = [];
    const half = new MicroBatcher<number>(cfg({ windowMs: 400, maxRecords: 100 }), async (batch) => { seen.push(batch); });
    half.add(1, 1);
    half.setCaughtUp(true);
    await sleep(100);
    assert.equal(seen.length, 0, 'younger than half the window');
    await waitUntil(() => seen.length === 1, 'the caught-up flush');
    assert.deepStrictEqual(seen.map((s) => s.reason), ['caught-up']);
    const never = new MicroBatcher<number>(cfg({ windowMs: 200, maxRecords: 100, caughtUpFlushMs: 200 }), async (batch) => { seen.push(batch); });
    never.add(2, 1);
    never.setCaughtUp(true);
    await sleep(120);
    never.setCaughtUp(true);
    await waitUntil(() => seen.length === 2, 'the time flush');
    assert.deepStrictEqual(seen.map((s) => s.reason), ['caught-up', 'time']);
    await half.close(); await never.close();
  });
});
