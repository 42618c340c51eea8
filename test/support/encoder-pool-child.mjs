// Child process for the encoder-pool process tests: appends rows to a new table through floe
// loaded from `root` (the TypeScript sources under tsx, or a compiled build under plain node),
// prints what the pool did as one JSON line, and returns without closing anything else: the
// process must then exit on its own (idle encoder workers do not hold it open).
//   node [--import tsx] encoder-pool-child.mjs <root> <ext: ts|js> <warehouse> <rows>
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, ext, warehouse, rowsArg] = process.argv.slice(2);
const mod = (p) => import(pathToFileURL(path.join(root, `${p}.${ext}`)).href);
const { openCatalog } = await mod('catalog/index');
const { schemaFromJson } = await mod('src/spec/schema');
const { appendRecords } = await mod('src/transaction/append-records');
const { sharedEncoderPool } = await mod('src/workers/parquet-encoder-pool');

const catalog = await openCatalog({ warehouse });
await catalog.createNamespace(['p']);
const id = { namespace: ['p'], name: 'events' };
const schema = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' }, { name: 'kind', required: true, type: 'string' }, { name: 'value', required: false, type: 'double' },
] }, { assignIds: true });
await catalog.createTable(id, { schema });
const n = Number(rowsArg);
const rows = Array.from({ length: n }, (_, i) => ({ id: i, kind: `k${i % 7}`, value: i / 3 }));
const r = await appendRecords(catalog, id, rows);
await catalog.close();
const pool = sharedEncoderPool();
console.log(JSON.stringify({ records: r.records, dataFiles: r.dataFiles, workers: pool?.started ?? 0, at: Date.now() }));
