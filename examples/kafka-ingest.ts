// Ingest from Kafka: create a table, put a few sample orders on a topic (your producers do this
// in real life), run an exactly-once ingest pipeline until the table holds every message of the
// topic, then stop it in an orderly way. Restart it and nothing is read twice: each commit
// records the topic's offsets in the snapshot summary, and the pipeline resumes from there.
//
//   npm run kafka:up        # the project's single-node broker; prints its address
//   KAFKA_BROKERS=127.0.0.1:9092 FLOE_WAREHOUSE=./warehouse node --import tsx examples/kafka-ingest.ts
import { Kafka, logLevel } from 'kafkajs';
import { openCatalog, parseTableIdentifier, schemaFromJson, type Catalog, type TableIdentifier } from 'floe';
import { ingestConfigFrom, startIngest } from 'floe/ingest';

const warehouse = process.env.FLOE_WAREHOUSE ?? './warehouse';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const topic = process.env.KAFKA_TOPIC ?? 'floe-example-orders';
const id = parseTableIdentifier('examples.kafka_orders');

const catalog = await openCatalog({ warehouse });
try {
  await createTableIfMissing(catalog, id);
  const kafka = new Kafka({ clientId: 'floe-example', brokers, logLevel: logLevel.NOTHING });
  await produceSampleOrders(kafka, topic);

  const ingest = await startIngest(catalog, ingestConfigFrom({
    source: { type: 'kafka', brokers, groupId: 'floe-example' },
    routes: [{ topic, table: 'examples.kafka_orders' }],
    // Small batches so the example finishes quickly (defaults: 10 s, 100,000 records, 128 MiB).
    batch: { windowMs: 1_000, maxRecords: 10_000, maxBytes: 16 * 1024 * 1024 },
  }));

  // Wait until every message of the topic is a row (the table is fed by this topic only).
  const messages = await messagesInTopic(kafka, topic);
  const deadline = Date.now() + 120_000;
  let rows = await rowCount(catalog, id);
  while (rows < messages && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    rows = await rowCount(catalog, id);
  }
  await ingest.stop();

  const { metadata } = await catalog.loadTable(id);
  const snapshot = metadata.snapshots.find((s) => s.snapshotId === metadata.currentSnapshotId);
  const offsets = Object.entries(snapshot?.summary ?? {}).filter(([k]) => k.startsWith('floe.offsets.'));
  console.log(`topic ${topic}: ${messages} messages`);
  console.log(`table examples.kafka_orders: ${rows} rows`);
  for (const [key, value] of offsets) console.log(`recorded offsets ${key} = ${value}`);
  if (rows !== messages) process.exitCode = 1;
} finally {
  await catalog.close();
}

async function createTableIfMissing(catalog: Catalog, id: TableIdentifier): Promise<void> {
  if (!(await catalog.namespaceExists(id.namespace))) await catalog.createNamespace(id.namespace);
  if (await catalog.tableExists(id)) return;
  const schema = schemaFromJson({
    type: 'struct',
    fields: [
      { name: 'order_id', type: 'long', required: true },
      { name: 'customer', type: 'string', required: true },
      { name: 'amount', type: 'decimal(10,2)', required: true },
      { name: 'ordered_at', type: 'timestamptz', required: true },
    ],
  }, { assignIds: true });
  await catalog.createTable(id, { schema });
}

async function produceSampleOrders(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  await producer.connect();
  try {
    const orders = [
      { order_id: 101, customer: 'ada', amount: '12.00', ordered_at: '2026-03-01T10:00:00Z' },
      { order_id: 102, customer: 'grace', amount: '7.25', ordered_at: '2026-03-01T10:01:00Z' },
      { order_id: 103, customer: 'linus', amount: '99.90', ordered_at: '2026-03-01T10:02:00Z' },
      { order_id: 104, customer: 'ada', amount: '3.10', ordered_at: '2026-03-01T10:03:00Z' },
      { order_id: 105, customer: 'barbara', amount: '45.00', ordered_at: '2026-03-01T10:04:00Z' },
    ];
    await producer.send({ topic, messages: orders.map((o) => ({ key: o.customer, value: JSON.stringify(o) })) });
  } finally {
    await producer.disconnect();
  }
}

async function messagesInTopic(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function rowCount(catalog: Catalog, id: TableIdentifier): Promise<number> {
  const { metadata } = await catalog.loadTable(id);
  const snapshot = metadata.snapshots.find((s) => s.snapshotId === metadata.currentSnapshotId);
  return Number(snapshot?.summary['total-records'] ?? 0);
}
