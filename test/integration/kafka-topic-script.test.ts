// `npm run kafka:topic` (scripts/kafka-topic.ts) against the project's broker: create a topic
// with N partitions, produce stdin lines (with and without keys), describe, list, delete — and
// what it produced is read back by a plain consumer, values and keys. Mistakes are one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ensureKafka, kafkaClient, kafkaUnavailable, uniqueTopic } from '../support/kafka.ts';
import { REPO_ROOT } from '../support/readers.ts';

const skip = await kafkaUnavailable();

interface Run { status: number | null; stdout: string; stderr: string }

describe('npm run kafka:topic', { skip }, () => {
  let brokers: string[];
  const topicCli = (args: string[], input?: string): Run => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'kafka-topic.ts'), '--brokers', brokers.join(','), ...args],
      { cwd: REPO_ROOT, encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => { ({ brokers } = await ensureKafka()); });

  /** Every message of `topic`, read from the start by a fresh group. */
  async function consumeAll(topic: string, count: number): Promise<{ partition: number; key: string | null; value: string }[]> {
    const consumer = kafkaClient(brokers, 'floe-test-topic-check').consumer({ groupId: uniqueTopic('topic-check') });
    const got: { partition: number; key: string | null; value: string }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages within 60 s`)), 60_000);
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            got.push({ partition, key: message.key?.toString() ?? null, value: message.value!.toString() });
            if (got.length >= count) { clearTimeout(timer); resolve(); }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return got;
  }

  test('create, produce (keyed and not), describe, list, delete', async () => {
    const topic = uniqueTopic('kafka-topic-script');
    // Through npm once: the package.json entry itself.
    const created = spawnSync('npm', ['run', '-s', 'kafka:topic', '--', '--brokers', brokers.join(','), 'create', topic, '--partitions', '3'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.stdout, `created topic ${topic} with 3 partition(s)\n`);

    const keyed = topicCli(['produce', topic, '--key-separator', '\t'], 'cust-1\t{"id":1,"cust":"cust-1"}\ncust-2\t{"id":2,"cust":"cust-2"}\n\ncust-1\t{"id":3,"cust":"cust-1"}\n');
    assert.deepEqual(keyed, { status: 0, stdout: `produced 3 message(s) to ${topic}\n`, stderr: '' });
    const plain = topicCli(['produce', topic], '{"id":4}\r\n{"id":5}\n');
    assert.deepEqual(plain, { status: 0, stdout: `produced 2 message(s) to ${topic}\n`, stderr: '' });

    const messages = await consumeAll(topic, 5);
    assert.deepEqual(messages.map((m) => [m.key, m.value]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))), [
      ['cust-1', '{"id":1,"cust":"cust-1"}'], ['cust-2', '{"id":2,"cust":"cust-2"}'], ['cust-1', '{"id":3,"cust":"cust-1"}'],
      [null, '{"id":4}'], [null, '{"id":5}'],
    ]);
    // Same key, same partition (the Java client's murmur2 partitioner).
    const cust1 = messages.filter((m) => m.key === 'cust-1').map((m) => m.partition);
    assert.equal(new Set(cust1).size, 1);

    const described = topicCli(['describe', topic]);
    assert.equal(described.status, 0, described.stderr);
    const lines = described.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `topic ${topic}: 3 partition(s), 5 message(s) retained`);
    const perPartition = new Map<number, number>();
    for (const m of messages) perPartition.set(m.partition, (perPartition.get(m.partition) ?? 0) + 1);
    assert.deepEqual(lines.slice(1), [0, 1, 2].map((p) => `  partition ${p}: offsets 0..${perPartition.get(p) ?? 0} (${perPartition.get(p) ?? 0} message(s))`));

    assert.ok(topicCli(['list']).stdout.split('\n').includes(topic));
    assert.deepEqual(topicCli(['delete', topic]), { status: 0, stdout: `deleted topic ${topic}\n`, stderr: '' });
    assert.ok(!topicCli(['list']).stdout.split('\n').includes(topic));
  });

  test('mistakes are one line with exit 1: existing topic, missing topic, bad --partitions, line without key, no broker', async () => {
    const topic = uniqueTopic('kafka-topic-errors');
    assert.equal(topicCli(['create', topic]).status, 0);
    try {
      assert.deepEqual(topicCli(['create', topic, '--partitions', '2']),
        { status: 1, stdout: '', stderr: `kafka:topic: topic '${topic}' already exists (delete it first: npm run kafka:topic -- delete ${topic})\n` });
      assert.deepEqual(topicCli(['create', `${topic}-x`, '--partitions', '0']),
        { status: 1, stdout: '', stderr: 'kafka:topic: --partitions must be a positive integer, got \'0\'\n' });
      assert.deepEqual(topicCli(['produce', `${topic}-missing`], 'x\n'),
        { status: 1, stdout: '', stderr: `kafka:topic: topic '${topic}-missing' does not exist (create it: npm run kafka:topic -- create ${topic}-missing --partitions 1)\n` });
      assert.deepEqual(topicCli(['produce', topic, '--key-separator', '|'], 'k|v\nno separator\n'),
        { status: 1, stdout: '', stderr: 'kafka:topic: stdin line 2 has no key separator \'|\' (expected KEY|VALUE); 1 message(s) sent before it\n' });
    } finally {
      topicCli(['delete', topic]);
    }
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'kafka-topic.ts'), '--brokers', '127.0.0.1:1', 'list'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^kafka:topic: cannot reach the Kafka broker at 127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); start it with: npm run kafka:up\n$/);
  });
});
