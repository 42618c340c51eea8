// The SQL catalog builds each metadata file in the buffer of an earlier commit. Every file must
// still hold exactly its own commit's metadata after later commits — also when commits of two
// tables run at once in one process (each takes its own buffer) and a file grows past the buffer.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { parseTableMetadata, serializeTableMetadata, type TableMetadata } from '../../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }] }, { assignIds: true });
const A: TableIdentifier = { namespace: ['db'], name: 'a' };
const B: TableIdentifier = { namespace: ['db'], name: 'b' };

let wh: TestWarehouse;
beforeEach(async () => {
  wh = await testWarehouse();
  await wh.catalog.createNamespace(['db']);
  await wh.catalog.createTable(A, { schema: SCHEMA });
  await wh.catalog.createTable(B, { schema: SCHEMA });
});
afterEach(async () => { await wh.cleanup(); });

test('every metadata file holds its own commit after later commits reused the buffer', async () => {
  const written: { location: string; metadata: TableMetadata }[] = [];
  for (let i = 0; i < 12; i++) {
    // Two tables at once, files of about the same size (each fits the other's buffer); the last
    // outgrows every buffer.
    const big = i === 11 ? 'x'.repeat(5000) : 'x'.repeat(i);
    const [a, b] = await Promise.all([
      wh.catalog.commitTable(A, [], [{ action: 'set-properties', updates: { [`k${i}`]: big, table: 'a' } }]),
      wh.catalog.commitTable(B, [], [{ action: 'set-properties', updates: { [`k${i}`]: 'y'.repeat(i), table: 'b' } }]),
    ]);
    written.push({ location: a.metadataLocation, metadata: a.metadata }, { location: b.metadataLocation, metadata: b.metadata });
  }
  for (const w of written) {
    const text = new TextDecoder().decode(await wh.catalog.io.read(w.location));
    assert.equal(text, serializeTableMetadata(w.metadata), w.location);
    const back = parseTableMetadata(text, w.location);
    assert.deepEqual(back.properties, w.metadata.properties);
  }
  assert.equal((await wh.catalog.loadTable(A)).metadata.properties.k11, 'x'.repeat(5000));
  assert.equal((await wh.catalog.loadTable(B)).metadata.properties.table, 'b');
});
