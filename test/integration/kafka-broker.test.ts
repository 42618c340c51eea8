// The dev/test Kafka broker (scripts/kafka.sh) end to end: 100,000 keyed messages produced to a
// 6-partition topic come back through a kafkajs consumer group exactly once each, on the
// partition they were sent to and in the order they were sent; `kafka.sh status` then says up.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { KAFKA_SCRIPT, createTopic, deleteTopic, ensureKafka, kafkaClient, kafkaUnavailable, produce, uniqueTopic, type ProduceMessage } from '../support/kafka.ts';

const execFileP = promisify(execFile);
const skip = await kafkaUnavailable();

const N = 100_000;
const PARTITIONS = 6;
const PAD = 'x'.repeat(40);
const messageValue = (i: number): string => `v${i}:${PAD}`;

describe('Kafka broker from scripts/kafka.sh', { skip }, () => {
  let brokers: string[] = [];
  let topic = '';

  before(async () => {
    ({ brokers } = await ensureKafka());
    topic = uniqueTopic('floe-broker-test');
    await createTopic(brokers, topic, PARTITIONS);
  });

  after(async () => {
    if (topic && brokers.length) await deleteTopic(brokers, topic);
  });

  test(`${N} keyed messages on ${PARTITIONS} partitions arrive exactly once, where and in the order sent`, { timeout: 120_000 }, async (t) => {
    const messages: ProduceMessage[] = [];
    for (let i = 0; i < N; i++) messages.push({ key: `k${i}`, value: messageValue(i), partition: i % PARTITIONS });

    const t0 = performance.now();
    await produce(brokers, topic, messages);
    const produceMs = performance.now() - t0;
    t.diagnostic(`produced ${N} messages in ${produceMs.toFixed(0)} ms (${Math.round(N / (produceMs / 1000))} msg/s)`);

    const seen = new Uint8Array(N);
    const lastOnPartition: number[] = new Array<number>(PARTITIONS).fill(-1);
    const perPartition: number[] = new Array<number>(PARTITIONS).fill(0);
    const problems: string[] = [];
    const problem = (s: string) => { if (problems.length < 20) problems.push(s); };
    let received = 0;
    let allReceived!: () => void;
    const done = new Promise<void>((resolve) => { allReceived = resolve; });

    const consumer = kafkaClient(brokers, 'floe-test-consumer').consumer({
      groupId: uniqueTopic('floe-broker-test-group'),
      maxBytes: 16 << 20,
      maxBytesPerPartition: 4 << 20,
      maxWaitTimeInMs: 500,
    });
    const t1 = performance.now();
    let firstMessageMs: number | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          firstMessageMs ??= performance.now() - t1;
          for (const m of batch.messages) {
            const key = m.key?.toString() ?? '';
            const i = Number(key.slice(1));
            if (!/^k\d+$/.test(key) || i >= N) { problem(`unexpected key ${JSON.stringify(key)}`); continue; }
            if (m.value?.toString() !== messageValue(i)) problem(`key ${key}: value ${JSON.stringify(m.value?.toString())}`);
            if (batch.partition !== i % PARTITIONS) problem(`key ${key} on partition ${batch.partition}, sent to ${i % PARTITIONS}`);
            else {
              if (i <= (lastOnPartition[batch.partition] ?? -1)) problem(`key ${key} after k${lastOnPartition[batch.partition]} on partition ${batch.partition}`);
              lastOnPartition[batch.partition] = i;
              perPartition[batch.partition] = (perPartition[batch.partition] ?? 0) + 1;
            }
            seen[i] = (seen[i] ?? 0) + 1;
            received++;
          }
          if (received >= N) allReceived();
        },
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`consumed only ${received} of ${N} messages in 60 s`)), 60_000);
        }),
      ]).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect();
    }
    const consumeMs = performance.now() - t1;
    t.diagnostic(`consumed ${received} messages in ${consumeMs.toFixed(0)} ms (group join + first batch ${firstMessageMs?.toFixed(0)} ms; ` +
      `${Math.round(N / ((consumeMs - (firstMessageMs ?? 0)) / 1000))} msg/s after that)`);

    assert.deepEqual(problems, []);
    assert.equal(received, N);
    const missing: number[] = [];
    const duplicated: number[] = [];
    seen.forEach((c, i) => { if (c === 0) missing.push(i); else if (c > 1) duplicated.push(i); });
    assert.deepEqual({ missing: missing.slice(0, 10), duplicated: duplicated.slice(0, 10) }, { missing: [], duplicated: [] });
    const expectedPerPartition = Array.from({ length: PARTITIONS }, (_, p) => Math.ceil((N - p) / PARTITIONS));
    assert.deepEqual(perPartition, expectedPerPartition);
  });

  test('scripts/kafka.sh status exits 0 while the broker is up', async () => {
    const { stdout } = await execFileP('bash', [KAFKA_SCRIPT, 'status'], { timeout: 30_000 });
    assert.match(stdout, /^kafka up on 127\.0\.0\.1:\d+/m);
  });
});
