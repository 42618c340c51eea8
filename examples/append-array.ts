// Append rows from an array: open the catalog, create a partitioned table if it is missing,
// append three orders in one commit, and print what the commit recorded.
//
//   FLOE_WAREHOUSE=./warehouse node --import tsx examples/append-array.ts
import {
  appendRecords, currentSchema, openCatalog, parsePartitionExpression, parseTableIdentifier, schemaFromJson,
} from 'floe';

const warehouse = process.env.FLOE_WAREHOUSE ?? './warehouse';
const id = parseTableIdentifier('examples.orders');

const catalog = await openCatalog({ warehouse });
try {
  if (!(await catalog.namespaceExists(id.namespace))) await catalog.createNamespace(id.namespace);
  if (!(await catalog.tableExists(id))) {
    const schema = schemaFromJson({
      type: 'struct',
      'identifier-field-ids': [1],
      fields: [
        { id: 1, name: 'order_id', type: 'long', required: true },
        { id: 2, name: 'customer', type: 'string', required: true },
        { id: 3, name: 'amount', type: 'decimal(10,2)', required: true },
        { id: 4, name: 'ordered_at', type: 'timestamptz', required: true },
      ],
    }, { assignIds: true });
    await catalog.createTable(id, { schema, spec: parsePartitionExpression('day(ordered_at)', schema) });
    console.log(`created table ${id.namespace.join('.')}.${id.name}`);
  }

  const orders = [
    { order_id: 1, customer: 'ada', amount: '19.99', ordered_at: '2026-03-01T09:15:00Z' },
    { order_id: 2, customer: 'grace', amount: '5.00', ordered_at: '2026-03-01T11:40:00Z' },
    { order_id: 3, customer: 'ada', amount: '42.50', ordered_at: '2026-03-02T08:05:00Z' },
  ];
  const result = await appendRecords(catalog, id, orders);

  const summary = result.snapshot.summary;
  console.log(`appended ${result.records} rows in ${result.dataFiles} data files (one per day partition)`);
  console.log(`snapshot ${result.snapshot.snapshotId}: operation=${summary.operation} added-records=${summary['added-records']} total-records=${summary['total-records']}`);
  console.log(`columns: ${currentSchema(result.table.metadata).fields.map((f) => f.name).join(', ')}`);
  console.log(`metadata: ${result.table.metadataLocation}`);
} finally {
  await catalog.close();
}
