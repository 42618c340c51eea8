// A writer process for concurrency tests: appends batches of `size` records to one table and
// prints "committed <batch>" after each commit returned. Each snapshot records its worker and
// batch in the summary; with FIRST_BATCH=resume the worker continues after the last batch
// the table holds, so a batch that landed before a SIGKILL is never appended twice.
// usage: append-worker.ts WAREHOUSE|rest+http://… TABLE WORKER_ID BATCHES SIZE [FIRST_BATCH|resume]
// APPEND_INTERVAL_MS=N waits N ms between appends (a streaming writer's cadence).
// FLOE_TEST_CATALOG_URI opens that catalog (e.g. postgresql://…) instead of <warehouse>/catalog.db.
import { openCatalog } from '../../../catalog/index.ts';
import { parseTableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';

const [warehouse, table, worker, batches, size, first] = process.argv.slice(2);
// A `rest+http://…` first argument opens that REST catalog; FLOE_TEST_CATALOG_URI another catalog URI.
const uri = process.env.FLOE_TEST_CATALOG_URI;
const catalog = await openCatalog(warehouse!.startsWith('rest+') ? { warehouse: '', uri: warehouse! } : { warehouse: warehouse!, ...(uri ? { uri } : {}) });
const id = parseTableIdentifier(table!);
const w = Number(worker);

let start = 0;
if (first === 'resume') {
  const t = await catalog.loadTable(id);
  for (const s of t.metadata.snapshots) {
    if (s.summary['test.worker'] === String(w)) start = Math.max(start, Number(s.summary['test.batch']) + 1);
  }
} else if (first !== undefined) start = Number(first);

for (let b = start; b < Number(batches); b++) {
  const records = Array.from({ length: Number(size) }, (_, i) => ({
    id: `${w * 1_000_000 + b * 1000 + i}`, worker: w, batch: b, payload: `w${w}-b${b}-r${i}`,
  }));
  await appendRecords(catalog, id, records, { summary: { 'test.worker': String(w), 'test.batch': String(b) } });
  process.stdout.write(`committed ${b}\n`);
  const interval = Number(process.env.APPEND_INTERVAL_MS ?? 0);
  if (interval > 0 && b + 1 < Number(batches)) await new Promise((r) => setTimeout(r, interval));
}
await catalog.close();
