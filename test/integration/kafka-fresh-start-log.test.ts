// `floe ingest` from Kafka on a freshly started broker with a new consumer group prints no
// ERROR line. On such a broker the group's first FindCoordinator makes the broker create
// `__consumer_offsets`, and it answers "The group coordinator is not available" meanwhile:
// kafkajs retried it but printed it as an ERROR on its own console logger, on every fresh
// start; its consumer then "crashed" on "The coordinator is loading …" while joining and was
// restarted, two more ERROR lines. Now kafkajs logs through floe's logger: the broker answer is
// a debug line, the restart a warning.
//
// The project's shared broker has long had its `__consumer_offsets`, so this test starts a
// broker of its own from scripts/kafka.sh (own data dir and ports, wiped before and after).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { KAFKA_SCRIPT, createTopic, kafkaUnavailable, produce, uniqueTopic } from '../support/kafka.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const execFileP = promisify(execFile);
// Same reasons to skip as every Kafka test (no Java, FLOE_SKIP_KAFKA=1 outside CI).
const skip = await kafkaUnavailable();

/** A port whose successor (the KRaft controller port) is free too. */
async function freePortPair(): Promise<number> {
  const listen = (port: number): Promise<net.Server | undefined> => new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
  for (let i = 0; i < 50; i++) {
    const a = await listen(0);
    const port = (a!.address() as net.AddressInfo).port;
    const b = await listen(port + 1);
    await new Promise((r) => a!.close(r));
    if (b) { await new Promise((r) => b.close(r)); return port; }
  }
  throw new Error('no free port pair');
}

describe('a fresh broker and a new consumer group: no ERROR line from floe ingest', { skip }, () => {
  let env: NodeJS.ProcessEnv;
  let brokers: string[];
  let wh: TestWarehouse;
  const kafkaSh = (...args: string[]) => execFileP('bash', [KAFKA_SCRIPT, ...args], { env, timeout: 5 * 60_000, maxBuffer: 16 << 20 });

  before(async () => {
    const port = await freePortPair();
    // A fixed data dir: the broker's class-data-sharing archive is kept per data dir.
    env = { ...process.env, FLOE_KAFKA_DIR: path.join(os.homedir(), '.cache', 'floe', 'kafka-fresh-start-test'), FLOE_KAFKA_PORT: String(port) };
    await kafkaSh('down', '--wipe');
    const { stdout } = await kafkaSh('up');
    const m = /kafka up on (\S+)/.exec(stdout);
    assert.ok(m, stdout);
    brokers = [m[1]!];
    wh = await testWarehouse('floe-kafka-fresh-');
  });
  after(async () => {
    await wh?.cleanup();
    if (env) await kafkaSh('down', '--wipe');
  });

  test('the coordinator answers of the first group are not printed as errors; the records land', { timeout: 180_000 }, async () => {
    await wh.catalog.createNamespace(['k']);
    await wh.catalog.createTable({ namespace: ['k'], name: 'events' }, {
      schema: schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 'name', required: false, type: 'string' }] }, { assignIds: true }),
    });
    const topic = uniqueTopic('fresh-start');
    await createTopic(brokers, topic, 2);
    await produce(brokers, topic, [1, 2, 3].map((id) => ({ value: JSON.stringify({ id, name: `n${id}` }) })));
    const config = path.join(wh.dir, 'ingest.json');
    writeFileSync(config, JSON.stringify({
      source: { type: 'kafka', brokers, groupId: uniqueTopic('fresh-group') },
      routes: [{ topic, table: 'k.events' }],
      batch: { windowMs: 60_000, maxRecords: 3 },
    }));

    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--warehouse', wh.dir, 'ingest', '--config', config], { cwd: REPO_ROOT });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    const committed = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('"msg":"batch committed"')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const timeout = setTimeout(() => child.kill('SIGKILL'), 120_000);
    await Promise.race([committed, exited]);
    child.kill('SIGTERM');
    const code = await exited;
    clearTimeout(timeout);

    assert.equal(code, 0, stderr);
    const lines = stderr.split('\n').filter((l) => l.trim() !== '');
    const parsed = lines.map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return { unparsed: l }; } });
    // Every stderr line is floe's JSON log; none is an error (pino: level ≥ 50; kafkajs's own
    // console logger: "level":"ERROR").
    assert.deepEqual(parsed.filter((p) => 'unparsed' in p), [], 'only floe\'s JSON log lines');
    assert.deepEqual(parsed.filter((p) => typeof p.level !== 'number' || p.level >= 50), [], 'no ERROR line');
    assert.ok(!/ERROR/.test(stderr + stdout), stderr);
    assert.ok(parsed.some((p) => p.msg === 'batch committed'), stderr);
    const rows = await readTableRows(wh.catalog, { namespace: ['k'], name: 'events' });
    assert.deepEqual(rows.map((r) => [Number(r.id), r.name]).sort((a, b) => Number(a[0]) - Number(b[0])), [[1, 'n1'], [2, 'n2'], [3, 'n3']]);
  });
});
