// Kafka → table on S3 while S3 misbehaves: `floe ingest` (a child process, catalog in
// PostgreSQL) writes through a fault proxy to a SeaweedFS server THIS FILE owns (its own port and
// data dir, so it may be SIGKILLed without disturbing the shared one). First 503 SlowDown bursts
// and connection resets in the middle of upload parts: the SDK retries them, the /metrics endpoint
// counts the retries. Then the S3 server itself is SIGKILLed while a batch's parts are in flight
// and restarted: the batch fails for good, `floe ingest` exits 1 and the test's supervisor
// restarts it (as systemd or Kubernetes would) until the server is back. At the end every
// produced record is in the table exactly once by value, `floe doctor --deep` is healthy and no
// multipart upload is open (the one the kill left is aborted by `floe remove-orphans`).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { committedOffsets, kafkaSourceId } from '../../src/ingest/source-offsets.ts';
import { identifierToString } from '../../src/table/identifier.ts';
import { rowKey } from '../support/crash-checks.ts';
import { noiseText } from '../support/datagen.ts';
import { openUploads, s3PostgresWarehouse, type IngestWarehouse } from '../support/ingest-warehouse.ts';
import { createTopic, ensureKafka, kafkaUnavailable, produce, uniqueTopic } from '../support/kafka.ts';
import { postgresUnavailable } from '../support/postgres.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { S3FaultProxy, isPutObject, isUploadPart } from '../support/s3-fault-proxy.ts';
import { S3_SCRIPT, parseUpLine, s3Unavailable, type S3Server } from '../support/s3.ts';
import { checkTableConsistency } from '../support/table-consistency.ts';

const execFileP = promisify(execFile);
const skip = (await kafkaUnavailable()) ?? (await s3Unavailable()) ?? (await postgresUnavailable());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This file's own SeaweedFS (ports PORT-3..PORT+1 and each +10000, apart from the shared 18333 one). */
const OWN_PORT = Number(process.env.FLOE_CHAOS_S3_PORT ?? 19333);
const PARTITIONS = 2;
const BATCH = 600;
const PAYLOAD_BYTES = 24 * 1024;

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
] }, { assignIds: true });

/** Record i: a noise payload (the same for the same i), so a batch of BATCH makes a ~11 MB data file: three 5 MiB parts. */
function record(i: number): { id: number; payload: string } {
  return { id: i, payload: `r${i}:${noiseText(i + 7, PAYLOAD_BYTES)}` };
}

/** scripts/s3.sh on this file's own port and data dir. */
async function ownS3(cmd: 'up' | 'down', dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileP('bash', [S3_SCRIPT, cmd, ...args], {
    env: { ...process.env, FLOE_S3_PORT: String(OWN_PORT), FLOE_S3_DIR: dir }, timeout: 3 * 60_000, maxBuffer: 16 << 20,
  });
  return stdout;
}

/** SIGKILL, as a crash or the OOM killer: no flush, no goodbye. */
async function killServer(dir: string): Promise<void> {
  const pid = Number(readFileSync(path.join(dir, 'weed.pid'), 'utf8').trim());
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try { process.kill(pid, 0); } catch { return; }
    if (Date.now() > deadline) throw new Error(`weed pid ${pid} still alive after SIGKILL`);
    await sleep(50);
  }
}

interface Exit { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly lastLine: string }

/**
 * Keeps `floe ingest` running: a run that exits is started again after a second (what systemd's
 * Restart=on-failure or a Kubernetes pod does). Records every exit.
 */
class Supervisor {
  readonly exits: Exit[] = [];
  private current: { proc: ReturnType<typeof spawn>; stderr: string; exited: Promise<void> } | undefined;
  private stopping = false;
  private log = '';

  constructor(private readonly args: readonly string[], private readonly env: NodeJS.ProcessEnv) {}

  start(): void {
    let stderr = '';
    const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), ...this.args], { cwd: REPO_ROOT, env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); this.log = (this.log + d.toString()).slice(-8000); });
    const exited = new Promise<void>((resolve) => proc.on('exit', (code, signal) => {
      const lines = stderr.trim().split('\n');
      this.exits.push({ code, signal, lastLine: lines.at(-1) ?? '' });
      resolve();
      if (!this.stopping) setTimeout(() => { if (!this.stopping) this.start(); }, 1000);
    }));
    this.current = { proc, get stderr() { return stderr; }, exited };
  }

  /** The metrics port the current run announced, once it did. */
  metricsPort(): number | undefined {
    const m = /"port":(\d+),"msg":"metrics on \/metrics"/.exec(this.current?.stderr ?? '');
    return m ? Number(m[1]) : undefined;
  }

  get tail(): string { return this.log; }

  /** SIGTERM (an orderly stop: the open batch is committed); resolves to the last run's exit. */
  async stop(): Promise<Exit> {
    this.stopping = true;
    const c = this.current;
    if (!c) throw new Error('never started');
    c.proc.kill('SIGTERM');
    const t = setTimeout(() => c.proc.kill('SIGKILL'), 60_000);
    await c.exited;
    clearTimeout(t);
    return this.exits.at(-1)!;
  }
}

/** floe_s3_retries_total by operation, scraped from a running ingest's /metrics. */
async function s3Retries(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^floe_s3_retries_total\{operation="([^"]+)"\} (\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('Kafka ingest to S3 while S3 fails: 503 bursts, resets mid-part, the server killed and restarted', { skip }, () => {
  let dir: string;
  let server: S3Server;
  let proxy: S3FaultProxy;
  let wh: IngestWarehouse;
  let brokers: string[];

  before(async () => {
    brokers = (await ensureKafka()).brokers;
    dir = mkdtempSync(path.join(os.tmpdir(), 'floe-chaos-s3-'));
    server = parseUpLine(await ownS3('up', dir));
    proxy = await S3FaultProxy.start(server.endpoint);
    // Retries as a tuned pipeline would have them, only shorter (Java's defaults: 5, 2 s, 20 s):
    // enough for a burst of 503s or a reset, not for a server that takes seconds to come back.
    wh = await s3PostgresWarehouse(server, 'chaos', { childEndpoint: proxy.endpoint, childRetry: { numRetries: 5, minWaitMs: 50, maxWaitMs: 400 } });
    await wh.catalog.createNamespace(['chaos']);
  });
  after(async () => {
    await proxy?.close();
    await wh?.cleanup();
    if (dir) {
      await ownS3('down', dir, '--wipe').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every record exactly once, doctor healthy, retries counted, no upload left open', { timeout: 8 * 60_000 }, async (t) => {
    const t0 = Date.now();
    const id = { namespace: ['chaos'], name: 'events' };
    await wh.catalog.createTable(id, { schema: SCHEMA });
    const topic = uniqueTopic('chaos');
    await createTopic(brokers, topic, PARTITIONS);
    const group = `g-${topic}`;
    const config = path.join(wh.scratch, 'ingest.json');
    writeFileSync(config, JSON.stringify({
      source: { type: 'kafka', brokers, groupId: group, sessionTimeoutMs: 10_000 },
      routes: [{ topic, table: identifierToString(id) }],
      batch: { maxRecords: BATCH, windowMs: 3000 },
      metrics: { port: 0 },
    }));
    const total = async (): Promise<number> => Number(branchHead((await wh.catalog.loadTable(id)).metadata, 'main')?.summary['total-records'] ?? 0);
    const produceRange = (from: number, n: number) => produce(brokers, topic, Array.from({ length: n }, (_, k) => ({ value: JSON.stringify(record(from + k)), partition: (from + k) % PARTITIONS })), { idempotent: true });
    const until = async (what: string, ms: number, ok: () => Promise<boolean> | boolean): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; exits ${JSON.stringify(sup.exits)}\n${sup.tail}`);
        await sleep(200);
      }
    };

    const sup = new Supervisor([...wh.cliArgs, 'ingest', '--config', config], { ...process.env, ...wh.env });
    sup.start();
    try {
      // (a) 503 SlowDown on object PUTs and on parts, connections cut in the middle of a part.
      proxy.slowDown(3, isPutObject).slowDown(2, isUploadPart).resetMidBody(2, isUploadPart);
      await produceRange(0, BATCH);
      await until('the first batch', 120_000, async () => await total() >= BATCH);
      assert.equal(proxy.pendingFaults, 0, `every armed fault was met: ${JSON.stringify(proxy.counters)}`);
      assert.equal(sup.exits.length, 0, `the SDK retried through the bursts and resets: the ingest never exited ${JSON.stringify(sup.exits)}`);
      const port = sup.metricsPort();
      assert.ok(port, 'the ingest announced its metrics port');
      const retries = await s3Retries(port);
      assert.ok((retries.get('PutObject') ?? 0) >= 3 && (retries.get('UploadPart') ?? 0) >= 4, `floe_s3_retries_total counts the retries by operation: ${JSON.stringify([...retries])}`);
      const tA = Date.now();

      // (b) The server SIGKILLed while the second batch's parts are on their way, then restarted.
      const partsBefore = proxy.seen(isUploadPart);
      // The batch's first part is held 5 s at the proxy, so the kill below lands while the batch is
      // in flight: on a loaded machine (CI) the whole batch was once committed between the poll
      // that saw its part and the kill, and the idle ingest then never met the dead server.
      proxy.delay(5_000, isUploadPart, { count: 1, phase: 'request' });
      await produceRange(BATCH, BATCH);
      await until('a part of the second batch', 120_000, () => proxy.seen(isUploadPart) > partsBefore);
      await killServer(dir);
      // The batch fails for good (its retries last ~2 s): the ingest exits 1 and is restarted,
      // and the restarts fail too (loading the table needs S3) until the server is back.
      await until('the ingest to give up on the dead server', 60_000, () => sup.exits.length > 0);
      await ownS3('up', dir);
      await until('every record after the restart', 180_000, async () => await total() >= 2 * BATCH);
      await sleep(1500); // a duplicate commit, if any, would land now
      const tB = Date.now();
      const last = await sup.stop();
      assert.equal(last.code, 0, `orderly stop: ${JSON.stringify(last)}\n${sup.tail}`);
      const failures = sup.exits.slice(0, -1);
      assert.ok(failures.length >= 1 && failures.every((e) => e.code === 1 && /^floe: /.test(e.lastLine) && !e.lastLine.includes('\n')),
        `each failed run exited 1 with a one-line error: ${JSON.stringify(failures)}`);
      t.diagnostic(`faults ${tA - t0} ms, kill+restart ${tB - tA} ms; ingest restarts ${failures.length}; proxy ${JSON.stringify(proxy.counters)}`);
    } finally {
      if (sup.exits.length === 0 || sup.exits.at(-1)?.code !== 0) await sup.stop().catch(() => undefined);
    }

    // Every produced record once, by value.
    const want = Array.from({ length: 2 * BATCH }, (_, i) => rowKey(record(i))).sort();
    const got = (await readTableRows(wh.catalog, id)).map((r) => rowKey(r as { id: unknown; payload: unknown })).sort();
    assert.equal(got.length, want.length, 'row count');
    assert.ok(got.every((k, i) => k === want[i]), 'every record exactly once, by value');
    assert.deepEqual((await checkTableConsistency(wh.catalog, id)).problems, []);
    // The offsets the table recorded cover the whole topic, once.
    const offsets = committedOffsets((await wh.catalog.loadTable(id)).metadata, 'main', kafkaSourceId(group, topic));
    assert.deepEqual([...offsets].sort(), [[0, BigInt(BATCH)], [1, BigInt(BATCH)]]);

    // The upload the kill left open (if the server kept it), aborted by remove-orphans.
    const floe = async (...args: string[]) => execFileP(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), ...wh.cliArgs, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...wh.env } });
    const left = await openUploads(server, wh.bucket!);
    const orphans = await floe('remove-orphans', identifierToString(id), '--older-than', '0s');
    if (left.length > 0) assert.match(orphans.stdout, new RegExp(`aborted ${left.length} stale multipart upload`));
    t.diagnostic(`uploads left open by the kill: ${left.length}; remove-orphans: ${orphans.stdout.trim()}`);
    assert.deepEqual(await openUploads(server, wh.bucket!), [], 'no multipart upload open');
    const doctor = await floe('doctor', identifierToString(id), '--deep');
    assert.match(doctor.stdout, /healthy/i, doctor.stdout);
  });
});
