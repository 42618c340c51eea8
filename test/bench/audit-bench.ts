// Time of one audit of a 100,000-row micro-batch on a branch with 6 checks (what write-audit-
// publish adds per batch before publishing), next to the append of the same batch. Prints
// figures; asserts nothing. Run: node --import tsx test/bench/audit-bench.ts [rows] [runs]
import { parseAuditChecks } from '../../src/audit/audit-checks.ts';
import { runAudit } from '../../src/audit/run-audit.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { testWarehouse } from '../support/warehouse.ts';

const rows = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 3);
const wh = await testWarehouse('floe-audit-bench-');
try {
  const id = { namespace: ['db'], name: 'events' };
  await wh.catalog.createNamespace(['db']);
  await wh.catalog.createTable(id, {
    schema: schemaFromJson({
      type: 'struct', 'identifier-field-ids': [1], fields: [
        { id: 1, name: 'id', required: true, type: 'long' },
        { id: 2, name: 'ts', required: true, type: 'timestamptz' },
        { id: 3, name: 'region', required: false, type: 'string' },
        { id: 4, name: 'amount', required: false, type: 'decimal(10,2)' },
        { id: 5, name: 'user', required: false, type: 'string' },
      ],
    }),
  });
  const now = Date.now();
  const regions = ['eu', 'us', 'ap', 'sa'];
  const batch = (first: number) => Array.from({ length: rows }, (_, i) => ({
    id: first + i, ts: new Date(now - (i % 600) * 1000).toISOString(), region: regions[i % 4],
    amount: `${(i % 10_000) / 100}`, user: `user-${i % 5000}`,
  }));
  await appendRecords(wh.catalog, id, batch(0));
  const t0 = performance.now();
  await appendRecords(wh.catalog, id, batch(rows), { branch: 'audit' });
  const appendMs = performance.now() - t0;
  const checks = await parseAuditChecks({ checks: [
    { type: 'not_null', columns: ['id', 'ts', 'region'] },
    { type: 'unique' },
    { type: 'accepted_values', column: 'region', values: regions },
    { type: 'range', column: 'amount', min: 0, max: '100.00' },
    { type: 'row_count', min: 1, max: rows },
    { type: 'freshness', column: 'ts', max_age: '1h' },
  ] }, 'bench');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const r = await runAudit(wh.catalog, id, { branch: 'audit', checks });
    times.push(performance.now() - s);
    if (!r.passed) throw new Error(`bench audit failed: ${JSON.stringify(r.checks.filter((c) => !c.passed))}`);
  }
  times.sort((a, b) => a - b);
  console.log(`append of ${rows} rows to the branch: ${appendMs.toFixed(0)} ms`);
  console.log(`audit of ${rows} added rows x 6 checks: median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms)`);
} finally {
  await wh.cleanup();
}
