// Test client for scripts/kafka.sh: a real single-node Apache Kafka broker (KRaft) on loopback,
// started once per process and left running for the next test file (stop it with
// `npm run kafka:down`). Under CI=true a broker that cannot be started is a failure, never a
// skip; outside CI too, unless FLOE_SKIP_KAFKA=1, when kafkaUnavailable() returns the reason.
//
// kafkajs logs nothing unless FLOE_KAFKA_LOG is set (its retriable start-up errors are noise).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, Partitioners, logLevel, type Message } from 'kafkajs';

const execFileP = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const KAFKA_SCRIPT = path.join(REPO_ROOT, 'scripts/kafka.sh');

export interface KafkaBroker { brokers: string[] }

let started: Promise<KafkaBroker> | undefined;

/** Starts the broker with `scripts/kafka.sh up` (once per process); resolves to its bootstrap address. */
export function ensureKafka(): Promise<KafkaBroker> {
  started ??= startBroker();
  return started;
}

async function startBroker(): Promise<KafkaBroker> {
  let stdout: string;
  try {
    // The first run fetches the broker's jars through Maven: give it time.
    ({ stdout } = await execFileP('bash', [KAFKA_SCRIPT, 'up'], { timeout: 10 * 60_000, maxBuffer: 16 << 20 }));
  } catch (err) {
    const e = err as { code?: unknown; signal?: unknown; stdout?: string; stderr?: string; message: string };
    const detail = (e.stderr || e.stdout || e.message).trim().split('\n').slice(-12).join('\n');
    throw new Error(`scripts/kafka.sh up failed (exit ${String(e.code ?? e.signal)}):\n${detail}`);
  }
  if (process.env.FLOE_KAFKA_LOG) process.stderr.write(stdout);
  const m = /kafka up on (\S+)/.exec(stdout);
  if (!m?.[1]) throw new Error(`scripts/kafka.sh up printed no address:\n${stdout}`);
  return { brokers: [m[1]] };
}

/**
 * Whether Kafka tests can run: undefined once the broker is up. A broker that cannot be started
 * throws, except outside CI with FLOE_SKIP_KAFKA=1, where the reason is returned for
 * `describe(..., { skip })`.
 */
export async function kafkaUnavailable(): Promise<string | undefined> {
  try {
    await ensureKafka();
    return undefined;
  } catch (err) {
    if (process.env.CI !== 'true' && process.env.FLOE_SKIP_KAFKA === '1') {
      return `Kafka broker unavailable (FLOE_SKIP_KAFKA=1): ${(err as Error).message.split('\n').slice(-1)[0]}`;
    }
    throw err;
  }
}

/** A kafkajs client for the test broker; quiet unless FLOE_KAFKA_LOG is set. */
export function kafkaClient(brokers: string[], clientId = 'floe-test'): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: process.env.FLOE_KAFKA_LOG ? logLevel.INFO : logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

/** A topic name no other test (nor an earlier run) uses. */
export function uniqueTopic(prefix: string): string {
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 180);
  return `${clean}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a topic (replication factor 1) and waits for its partition leaders; throws if it exists.
 * kafkajs's own wait (`waitForLeaders`) gives up when a just-started KRaft broker still answers
 * UNKNOWN_TOPIC_OR_PARTITION for the new topic, so the leaders are polled here until a deadline.
 */
export async function createTopic(brokers: string[], name: string, partitions: number): Promise<void> {
  const admin = kafkaClient(brokers, 'floe-test-admin').admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: false,
      timeout: 30_000,
    });
    if (!created) throw new Error(`topic ${name} already exists`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
        const parts = topics[0]?.partitions ?? [];
        if (parts.length === partitions && parts.every((p) => p.leader >= 0)) return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new Error(`topic ${name}: partition leaders not elected within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Deletes a topic; a topic that does not exist is not an error. */
export async function deleteTopic(brokers: string[], name: string): Promise<void> {
  const admin = kafkaClient(brokers, 'floe-test-admin').admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (existing.includes(name)) await admin.deleteTopics({ topics: [name], timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

export interface ProduceMessage { key?: string; value: string; partition?: number }
export interface ProduceOptions {
  /**
   * Messages per sendBatch call (default 4,000). kafkajs 2.2.4 groups a call's messages per
   * partition with an array spread per message, quadratic in messages per partition per call:
   * 100,000 messages in one call take ~12 s, in calls of a few thousand ~1.5 s.
   */
  batchSize?: number;
  /** Idempotent producer (exactly-once per partition across retries); default false. */
  idempotent?: boolean;
}

/**
 * Writes messages in order with acks=all, `batchSize` per kafkajs sendBatch call. A message with
 * `partition` goes there; one without goes where the key hashes (Java client's murmur2), or
 * round-robin without a key. Resolves once every message is acknowledged.
 */
export async function produce(brokers: string[], topic: string, messages: readonly ProduceMessage[], opts: ProduceOptions = {}): Promise<void> {
  const batchSize = opts.batchSize ?? 4_000;
  const idempotent = opts.idempotent ?? false;
  const producer = kafkaClient(brokers, 'floe-test-producer').producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    idempotent,
    ...(idempotent ? { maxInFlightRequests: 1 } : {}),
  });
  await producer.connect();
  try {
    // One call at a time keeps each partition's order: a call and its retries end before the next
    // starts (a retried call can still duplicate messages unless the producer is idempotent).
    for (let start = 0; start < messages.length; start += batchSize) {
      const end = Math.min(start + batchSize, messages.length);
      const chunk: Message[] = new Array<Message>(end - start);
      for (let i = start; i < end; i++) {
        const m = messages[i]!;
        // One object shape for every message (partition undefined = partitioner decides).
        chunk[i - start] = { key: m.key ?? null, value: m.value, partition: m.partition as number };
      }
      await producer.sendBatch({ topicMessages: [{ topic, messages: chunk }], acks: -1, timeout: 30_000 });
    }
  } finally {
    await producer.disconnect();
  }
}
