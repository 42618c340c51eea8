// The micro-batcher's flush triggers, ordering, memory bound and adaptive window.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MicroBatcher, type Batch, type BatcherConfig } from '../../../src/ingest/micro-batcher.ts';

const cfg = (o: Partial<BatcherConfig> = {}): BatcherConfig => ({ windowMs: 50, maxRecords: 5, maxBytes: 1000, bufferLimitBytes: 2000, ...o });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
});
