// `floe compact --all --schedule` as a long-running process: it compacts every table on the
// schedule, runs the configured maintenance, logs JSON, serves Prometheus metrics an on-call
// person can read, and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 's', required: false, type: 'string' }] }, { assignIds: true });

describe('scheduled compaction service', () => {
  let wh: TestWarehouse;
  before(async () => {
    wh = await testWarehouse();
    for (const ns of [['a'], ['b', 'inner']]) {
      await wh.catalog.createNamespace(ns.slice(0, 1)).catch(() => undefined);
      if (ns.length > 1) await wh.catalog.createNamespace(ns);
      const id = { namespace: ns, name: 't' };
      await wh.catalog.createTable(id, { schema: SCHEMA });
      for (let i = 0; i < 6; i++) await appendRecords(wh.catalog, id, [{ id: i, s: `v${i}` }]);
    }
  });
  after(async () => { await wh?.cleanup(); });

  test('compacts every table on schedule, serves metrics, stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--warehouse', wh.dir, 'compact', '--all',
      '--schedule', '*/2 * * * * *', '--metrics-port', '0', '--expire-older-than', '0ms', '--retain-last', '1'], { cwd: REPO_ROOT });
    const logs: Record<string, unknown>[] = [];
    const out: string[] = [];
    let buf = '';
    child.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) logs.push(JSON.parse(l) as Record<string, unknown>);
    });
    child.stdout.on('data', (d: Buffer) => out.push(...d.toString().trim().split('\n')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = async (pred: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; logs: ${JSON.stringify(logs.slice(-5))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await waitFor(() => logs.filter((l) => l.msg === 'compaction done' && (l.rewrittenFiles as number) > 0).length >= 2, 'both tables compacted');
      await waitFor(() => logs.some((l) => l.msg === 'snapshots expired'), 'maintenance');
      const port = logs.find((l) => l.msg === 'metrics on /metrics')!.port as number;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(text, /floe_compaction_files_rewritten_total\{table="a\.t"\} 6/);
      assert.match(text, /floe_compaction_files_rewritten_total\{table="b\.inner\.t"\} 6/);
      assert.match(text, /floe_compaction_runs_total\{table="a\.t",result="ok"\} 1/);
      assert.match(text, /floe_compaction_last_success_timestamp_seconds\{table="a\.t"\} \d/);
      assert.ok(out.some((l) => /^a\.t: compacted 6 files .* into 1 /.test(l)), out.join('\n'));
      // Later runs find nothing to do and say so.
      await waitFor(() => logs.filter((l) => l.msg === 'planned' && l.table === 'a.t' && l.groups === 0).length >= 1, 'a second, idle run');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, 'SIGTERM stops the service cleanly');
    const t = await wh.catalog.loadTable({ namespace: ['a'], name: 't' });
    assert.equal(t.metadata.snapshots.at(-1)!.summary.operation, 'replace');
    assert.equal(t.metadata.snapshots.length, 1, 'expiry kept only the newest snapshot');
  });
});
