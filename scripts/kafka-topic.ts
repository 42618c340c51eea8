// `npm run kafka:topic -- …`: topics on the project's Kafka broker (scripts/kafka.sh), for
// trying `floe ingest` by hand — create a topic, produce lines from stdin, list, describe,
// delete. Talks to the broker through kafkajs (the broker's own kafka-topics.sh is not shipped:
// scripts/kafka.sh fetches the broker's jars only).
//
//   npm run kafka:up
//   npm run kafka:topic -- create orders --partitions 3
//   printf '%s\n' '{"id":1}' '{"id":2}' | npm run kafka:topic -- produce orders
//   npm run kafka:topic -- describe orders
//   npm run kafka:topic -- list
//   npm run kafka:topic -- delete orders
import { createInterface } from 'node:readline';
import { Command, CommanderError } from 'commander';
import { Kafka, logLevel, Partitioners, type Admin, type Message } from 'kafkajs';

const DEFAULT_BROKER = `127.0.0.1:${process.env.FLOE_KAFKA_PORT ?? '19092'}`;
/** Messages per produce request: kafkajs groups a call's messages per partition with a spread
 * per message (quadratic), so large inputs go in chunks. */
const CHUNK = 4_000;

class UsageError extends Error {}

function client(brokers: string): Kafka {
  return new Kafka({
    clientId: 'floe-kafka-topic',
    brokers: brokers.split(',').map((b) => b.trim()).filter((b) => b !== ''),
    // Errors are reported once, by this script, in one line.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 3, initialRetryTime: 200 },
  });
}

async function withAdmin<T>(brokers: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = client(brokers).admin();
  await admin.connect();
  try { return await fn(admin); } finally { await admin.disconnect(); }
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got '${text}'`);
  return n;
}

async function create(brokers: string, topic: string, partitions: number): Promise<string> {
  return withAdmin(brokers, async (admin) => {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: false, timeout: 30_000 });
    if (!created) throw new UsageError(`topic '${topic}' already exists (delete it first: npm run kafka:topic -- delete ${topic})`);
    // A just-created topic has no partition leaders for a moment: producing then fails. Wait.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const parts = await admin.fetchTopicMetadata({ topics: [topic] }).then((m) => m.topics[0]?.partitions ?? [], () => []);
      if (parts.length === partitions && parts.every((p) => p.leader >= 0)) break;
      if (Date.now() > deadline) throw new Error(`topic '${topic}': partition leaders not elected within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return `created topic ${topic} with ${partitions} partition(s)`;
  });
}

async function produce(brokers: string, topic: string, keySeparator: string | undefined): Promise<string> {
  const exists = await withAdmin(brokers, async (admin) => (await admin.listTopics()).includes(topic));
  if (!exists) throw new UsageError(`topic '${topic}' does not exist (create it: npm run kafka:topic -- create ${topic} --partitions 1)`);
  const producer = client(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  let sent = 0;
  try {
    let chunk: Message[] = [];
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      await producer.send({ topic, messages: chunk, acks: -1, timeout: 30_000 });
      sent += chunk.length;
      chunk = [];
    };
    let lineNo = 0;
    for await (const raw of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      lineNo++;
      const line = raw;
      if (line.trim() === '') continue;
      if (keySeparator !== undefined) {
        const at = line.indexOf(keySeparator);
        if (at < 0) {
          // The lines before it are sent (a producer never half-sends a line): say how many.
          await flush();
          throw new UsageError(`stdin line ${lineNo} has no key separator '${keySeparator}' (expected KEY${keySeparator}VALUE); ${sent} message(s) sent before it`);
        }
        chunk.push({ key: line.slice(0, at), value: line.slice(at + keySeparator.length) });
      } else {
        // No key: the partitioner spreads the messages round-robin.
        chunk.push({ value: line });
      }
      if (chunk.length >= CHUNK) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return `produced ${sent} message(s) to ${topic}`;
}

async function list(brokers: string): Promise<string[]> {
  return withAdmin(brokers, async (admin) => (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort());
}

async function describe(brokers: string, topic: string): Promise<string[]> {
  return withAdmin(brokers, async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) throw new UsageError(`topic '${topic}' does not exist`);
    const offsets = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition);
    const total = offsets.reduce((n, o) => n + BigInt(o.high) - BigInt(o.low), 0n);
    return [
      `topic ${topic}: ${offsets.length} partition(s), ${total} message(s) retained`,
      ...offsets.map((o) => `  partition ${o.partition}: offsets ${o.low}..${o.high} (${BigInt(o.high) - BigInt(o.low)} message(s))`),
    ];
  });
}

async function remove(brokers: string, topic: string): Promise<string> {
  return withAdmin(brokers, async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) throw new UsageError(`topic '${topic}' does not exist`);
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
    return `deleted topic ${topic}`;
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('kafka:topic')
    .description('topics on the project\'s Kafka broker (start it with npm run kafka:up)')
    .option('--brokers <list>', 'bootstrap brokers, comma-separated', DEFAULT_BROKER)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const brokers = (): string => (program.opts() as { brokers: string }).brokers;
  const say = (line: string): void => { process.stdout.write(`${line}\n`); };
  program.command('create <topic>').description('create a topic (replication factor 1)')
    .option('--partitions <n>', 'number of partitions', '1')
    .action(async (topic: string, o: { partitions: string }) => say(await create(brokers(), topic, positive('--partitions', o.partitions))));
  program.command('produce <topic>').description('send each non-empty stdin line as one message (value = the line), with acks=all')
    .option('--key-separator <sep>', 'split each line at the first SEP into KEY and VALUE (as kafka-console-producer\'s key.separator): same key, same partition')
    .action(async (topic: string, o: { keySeparator?: string }) => say(await produce(brokers(), topic, o.keySeparator)));
  program.command('list').description('list the topics (internal ones left out)')
    .action(async () => { for (const t of await list(brokers())) say(t); });
  program.command('describe <topic>').description('partitions and their offsets (how many messages each holds)')
    .action(async (topic: string) => { for (const l of await describe(brokers(), topic)) say(l); });
  program.command('delete <topic>').description('delete a topic and its messages')
    .action(async (topic: string) => say(await remove(brokers(), topic)));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const e = err as Error & { name?: string };
    const reason = e instanceof UsageError ? e.message
      : /ECONNREFUSED|Connection error|KafkaJSNumberOfRetriesExceeded|connect/i.test(`${e.name} ${e.message}`)
        ? `cannot reach the Kafka broker at ${brokers()} (${e.message}); start it with: npm run kafka:up`
        : `${e.message}`;
    process.stderr.write(`kafka:topic: ${reason}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
