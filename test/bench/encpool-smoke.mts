import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../catalog/index.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { EVENTS_SCHEMA_JSON } from '../../test/support/datagen.ts';
import { makeEventRecords } from '../../test/bench/event-records.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
const dir = mkdtempSync(path.join(os.tmpdir(), 'encpool-'));
const catalog = await openCatalog({ warehouse: dir });
await catalog.createNamespace(['b']);
const id = { namespace: ['b'], name: 't' };
await catalog.createTable(id, { schema: schemaFromJson(EVENTS_SCHEMA_JSON, { assignIds: true }) });
const n = Number(process.argv[2] ?? 300000);
const recs = makeEventRecords(n, 0);
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const r = await appendRecords(catalog, id, recs);
  console.log(n, 'rows', (performance.now() - t0).toFixed(0), 'ms', JSON.stringify(r.timings), r.dataFiles);
}
