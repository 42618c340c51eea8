// Ingest into a table partitioned by truncate(100, amount decimal(9,2)): the one record whose
// partition value would need ten digits is dead-lettered with the reason, the rest commit.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseIngestConfig } from '../../src/ingest/ingest-config.ts';
import { startIngest } from '../../src/ingest/ingest-runner.ts';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { readTableRows } from '../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'amount', required: false, type: 'decimal(9,2)' },
] }, { assignIds: true });

describe('ingest refuses partition values wider than their column', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['ing']);
    await wh.catalog.createTable({ namespace: ['ing'], name: 'money' }, {
      schema: SCHEMA, spec: parsePartitionExpression('truncate(100,amount)', SCHEMA),
    });
  });
  afterEach(async () => { await wh.cleanup(); });

  test('the out-of-range record is dead-lettered, the others are committed', { timeout: 60_000 }, async () => {
    const lines = [
      JSON.stringify({ id: 1, amount: '12.34' }),
      JSON.stringify({ id: 2, amount: '-9999999.99' }),
      JSON.stringify({ id: 3, amount: '-9999999.00' }),
    ];
    const file = path.join(wh.dir, 'in.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const cfg = parseIngestConfig(JSON.stringify({
      source: { type: 'ndjson', path: file },
      routes: [{ table: 'ing.money' }],
      batch: { maxRecords: 100, windowMs: 60_000 },
      deadLetter: { table: 'ing.dead_letters' },
      metrics: { port: 0 },
    }), 'test.json');
    const run = await startIngest(wh.catalog, cfg, { logStream: new PassThrough() });
    await run.done;

    const dead = await readTableRows(wh.catalog, { namespace: ['ing'], name: 'dead_letters' });
    assert.equal(dead.length, 1);
    assert.equal(String(dead[0]!.payload), lines[1]);
    assert.match(String(dead[0]!.error), /field 'amount'.*-10000000\.00.*does not fit.*decimal\(9,2\)/);
    const good = await readTableRows(wh.catalog, { namespace: ['ing'], name: 'money' });
    assert.deepEqual(good.map((g) => String(g.id)).sort(), ['1', '3']);
  });
});
