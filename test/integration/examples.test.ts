// Runs every program in examples/ as a user would (`node --import tsx examples/X.ts`, importing
// `floe` by name through tsconfig's paths) against a fresh warehouse, and checks what each
// printed and what a real reader then finds in the table it wrote. The Kafka example runs
// against the project's broker (test/support/kafka.ts), twice: the second run must add only the
// new messages (the pipeline resumes from the offsets the table recorded).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createTopic, ensureKafka, kafkaUnavailable, uniqueTopic } from '../support/kafka.ts';
import { REPO_ROOT, ReaderServer, readersUnavailable, VENV_PYTHON } from '../support/readers.ts';

const execFileP = promisify(execFile);
const skipReaders = readersUnavailable();

/** Runs one example to completion; returns its stdout lines (stderr carries its JSON logs). */
async function runExample(name: string, env: Record<string, string>): Promise<string[]> {
  try {
    const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', path.join('examples', name)], {
      cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 180_000, maxBuffer: 16 << 20,
    });
    return stdout.trimEnd().split('\n');
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    throw new Error(`examples/${name} failed (exit ${String(e.code)}):\n${e.stdout ?? ''}\n${(e.stderr ?? '').split('\n').slice(-15).join('\n')}`);
  }
}

describe('examples/', { skip: skipReaders }, () => {
  let warehouse: string;
  let readers: ReaderServer;
  const env = (): Record<string, string> => ({ FLOE_WAREHOUSE: warehouse, FLOE_VENV: path.dirname(path.dirname(VENV_PYTHON)) });
  const read = async (table: string): Promise<Record<string, unknown>[]> =>
    (await readers.read({ reader: 'pyiceberg', warehouse, catalogDb: path.join(warehouse, 'catalog.db'), table })).rows;

  before(() => {
    warehouse = mkdtempSync(path.join(os.tmpdir(), 'floe-examples-'));
    readers = new ReaderServer();
  });
  after(async () => {
    await readers.close();
    if (!process.env.FLOE_KEEP_TEST_DATA) rmSync(warehouse, { recursive: true, force: true });
  });

  it('append-array.ts creates the table, appends three orders, and a rerun appends them again', async () => {
    const first = await runExample('append-array.ts', env());
    assert.equal(first[0], 'created table examples.orders');
    assert.equal(first[1], 'appended 3 rows in 2 data files (one per day partition)');
    assert.match(first[2]!, /^snapshot \d+: operation=append added-records=3 total-records=3$/);
    assert.equal(first[3], 'columns: order_id, customer, amount, ordered_at');
    assert.match(first[4]!, new RegExp(`^metadata: file://${warehouse}/examples/orders/metadata/00001-[0-9a-f-]+\\.metadata\\.json$`));
    const rows = (await read('examples.orders')).map((r) => `${String(r.order_id)} ${String(r.customer)} ${String(r.amount)}`).sort();
    assert.deepEqual(rows, ['1 ada 19.99', '2 grace 5.00', '3 ada 42.50']);

    const second = await runExample('append-array.ts', env());
    assert.match(second[0]!, /^appended 3 rows/, 'the table exists now: no second create');
    assert.match(second[1]!, /added-records=3 total-records=6$/);
  });

  it('compact-on-schedule.ts rewrites eight small files into one, rows unchanged', async () => {
    const out = await runExample('compact-on-schedule.ts', env());
    assert.equal(out[0], 'before: 8 data files, 200 rows');
    assert.match(out[1]!, /^compaction: examples\.events: compacted 8 files \(.*\) into 1 \(.*\) in 1 commit\(s\)/);
    assert.equal(out.at(-1), 'after: 1 data files, 200 rows');
    const rows = await read('examples.events');
    assert.deepEqual(rows.map((r) => Number(r.event_id)).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i));
    assert.equal(rows.filter((r) => r.kind === 'click').length, 8 * 13, 'even i of 0..24 in each of 8 batches');
  });

  it('read-with-duckdb.ts reads the table back through DuckDB with the position delete applied', async () => {
    const out = await runExample('read-with-duckdb.ts', env());
    assert.deepEqual(out, [
      'deleted 1 row(s) (merge-on-read)',
      'customer  payments  total  last_paid',
      'ada              2  12.50  2026-03-01 10:30:00+00',
      'grace            1  99.99  2026-03-02 12:00:00+00',
    ]);
  });

  describe('kafka-ingest.ts', () => {
    let skip: string | undefined;
    let brokers: string[] = [];
    before(async () => {
      skip = await kafkaUnavailable();
      if (!skip) brokers = (await ensureKafka()).brokers;
    });

    it('ingests every message of the topic exactly once, also when run again', async (t) => {
      if (skip) { t.skip(skip); return; }
      const topic = uniqueTopic('floe-examples');
      // Created here with leaders awaited (kafkajs's own wait can give up on a fresh KRaft
      // broker); the example then finds it and only creates a topic that is missing.
      await createTopic(brokers, topic, 2);
      const kafkaEnv = { ...env(), KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC: topic };
      const offsetsLine = (lines: string[]): Record<string, number> => {
        const line = lines.find((l) => l.startsWith('recorded offsets '));
        const m = new RegExp(`^recorded offsets floe\\.offsets\\.kafka/floe-example/${topic} = (\\{.*\\})$`).exec(line ?? '');
        assert.ok(m, `no offsets line in:\n${lines.join('\n')}`);
        return JSON.parse(m[1]!) as Record<string, number>;
      };
      const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);

      const first = await runExample('kafka-ingest.ts', kafkaEnv);
      assert.equal(first[0], `topic ${topic}: 5 messages`);
      assert.equal(first[1], 'table examples.kafka_orders: 5 rows');
      assert.equal(sum(offsetsLine(first)), 5, 'the next offsets of both partitions cover the five messages');
      const rows = (await read('examples.kafka_orders')).map((r) => `${String(r.order_id)} ${String(r.customer)} ${String(r.amount)}`).sort();
      assert.deepEqual(rows, ['101 ada 12.00', '102 grace 7.25', '103 linus 99.90', '104 ada 3.10', '105 barbara 45.00']);

      // A rerun produces five more messages: the pipeline resumes at the table's offsets, so the
      // table gets those five and not the first five again.
      const second = await runExample('kafka-ingest.ts', kafkaEnv);
      assert.equal(second[0], `topic ${topic}: 10 messages`);
      assert.equal(second[1], 'table examples.kafka_orders: 10 rows');
      assert.equal(sum(offsetsLine(second)), 10);
      const ids = (await read('examples.kafka_orders')).map((r) => Number(r.order_id)).sort((a, b) => a - b);
      assert.deepEqual(ids, [101, 101, 102, 102, 103, 103, 104, 104, 105, 105]);
    });
  });
});
