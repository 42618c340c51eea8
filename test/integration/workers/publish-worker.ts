// A write-audit-publish writer process for concurrency tests: for each batch, appends `size`
// records to its own branch, then publishes the branch to main (re-applied when main moved,
// retried on lost races) and prints "published <batch> <kind>".
// usage: publish-worker.ts WAREHOUSE TABLE WORKER_ID BRANCH BATCHES SIZE
// PUBLISH_GAP_MS (env): a pause between staging a batch and publishing it, so that a concurrent
// writer moves main in between and the publish must re-apply (not a race left to chance).
import { openCatalog } from '../../../catalog/index.ts';
import { parseTableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { publishBranch } from '../../../src/wap/publish.ts';

const [warehouse, table, worker, branch, batches, size] = process.argv.slice(2);
const catalog = await openCatalog({ warehouse: warehouse! });
const id = parseTableIdentifier(table!);
const w = Number(worker);
for (let b = 0; b < Number(batches); b++) {
  const records = Array.from({ length: Number(size) }, (_, i) => ({
    id: `${w * 1_000_000 + b * 1000 + i}`, worker: w, batch: b, payload: `w${w}-b${b}-r${i}`,
  }));
  await appendRecords(catalog, id, records, { branch: branch!, summary: { 'test.worker': String(w), 'test.batch': String(b) } });
  const gap = Number(process.env.PUBLISH_GAP_MS ?? 0);
  if (gap > 0) await new Promise((r) => setTimeout(r, gap));
  const r = await publishBranch(catalog, id, { branch: branch! });
  process.stdout.write(`published ${b} ${r.kind}\n`);
}
await catalog.close();
