// Read a table back with DuckDB: write a few rows, delete one by predicate, then query the
// table with DuckDB's iceberg extension — any Iceberg reader sees what floe committed,
// position deletes applied. DuckDB reads the table from its metadata file.
//
// This machine has no internet, so DuckDB's extensions come from the Python wheels that
// scripts/setup-readers.sh installs (the npm @duckdb/node-api package is a different DuckDB
// version and cannot load them); the query runs through scripts/duckdb_query.py in that venv.
// With internet, `INSTALL iceberg; LOAD iceberg;` in any DuckDB works the same way.
//
//   bash scripts/setup-readers.sh --duckdb   # once: creates .venv with duckdb + extensions
//   FLOE_WAREHOUSE=./warehouse node --import tsx examples/read-with-duckdb.ts
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { appendRecords, deleteWhere, openCatalog, parseTableIdentifier, schemaFromJson } from 'floe';

const warehouse = process.env.FLOE_WAREHOUSE ?? './warehouse';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const python = path.join(process.env.FLOE_VENV ?? path.join(repo, '.venv'), 'bin', 'python');
const id = parseTableIdentifier('examples.payments');

const catalog = await openCatalog({ warehouse });
let metadataLocation: string;
try {
  if (!(await catalog.namespaceExists(id.namespace))) await catalog.createNamespace(id.namespace);
  if (await catalog.tableExists(id)) await catalog.dropTable(id, { purge: true });
  const schema = schemaFromJson({
    type: 'struct',
    fields: [
      { name: 'payment_id', type: 'long', required: true },
      { name: 'customer', type: 'string', required: true },
      { name: 'amount', type: 'decimal(10,2)', required: true },
      { name: 'paid_at', type: 'timestamptz', required: true },
    ],
  }, { assignIds: true });
  await catalog.createTable(id, { schema });
  await appendRecords(catalog, id, [
    { payment_id: 1, customer: 'ada', amount: '10.00', paid_at: '2026-03-01T09:00:00Z' },
    { payment_id: 2, customer: 'ada', amount: '2.50', paid_at: '2026-03-01T10:30:00Z' },
    { payment_id: 3, customer: 'grace', amount: '99.99', paid_at: '2026-03-02T12:00:00Z' },
    { payment_id: 4, customer: 'linus', amount: '5.00', paid_at: '2026-03-02T13:15:00Z' },
  ]);
  const deleted = await deleteWhere(catalog, id, "customer = 'linus'");
  console.log(`deleted ${deleted.deletedRows} row(s) (${deleted.mode})`);
  metadataLocation = (await catalog.loadTable(id)).metadataLocation;
} finally {
  await catalog.close();
}

// timestamptz is cast to text in SQL: DuckDB's Python client needs pytz to return it as a value.
const sql = `SELECT customer, count(*) AS payments, sum(amount) AS total, CAST(max(paid_at) AS VARCHAR) AS last_paid
  FROM iceberg_scan('${metadataLocation.replaceAll("'", "''")}') GROUP BY customer ORDER BY customer`;
const { stdout } = await promisify(execFile)(python, [path.join(repo, 'scripts', 'duckdb_query.py'), sql]);
process.stdout.write(stdout);
