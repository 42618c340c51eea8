// Benchmark (not a test): records → Arrow conversion alone, on the append bench's 8-column
// event records, so changes to src/writer/record-converter.ts can be measured without the
// Parquet encoder or a catalog.
//
//   node --import tsx test/bench/to-arrow-bench.ts [--records 1000000] [--runs 5]
import { parseArgs } from 'node:util';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { recordsToArrow } from '../../src/writer/record-converter.ts';
import { EVENT_TYPES, EVENTS_SCHEMA_JSON } from '../support/datagen.ts';

const { values: args } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' } } });
const SCHEMA = schemaFromJson(EVENTS_SCHEMA_JSON, { assignIds: true });

function makeRecords(n: number): Record<string, unknown>[] {
  const base = Date.UTC(2026, 10, 1);
  return Array.from({ length: n }, (_, i) => ({
    event_id: i,
    user_id: (i * 7919) % 100_000,
    ts: new Date(base + i * 37).toISOString(),
    event_type: EVENT_TYPES[i % EVENT_TYPES.length],
    page: i % 10 === 0 ? null : `/products/${i % 5000}`,
    value: (i % 1000) / 7,
    count: i % 100,
    flag: i % 3 === 0,
  }));
}

const n = Number(args.records);
const records = makeRecords(n);
const times: number[] = [];
for (let r = 0; r < Number(args.runs); r++) {
  const t0 = performance.now();
  const batch = recordsToArrow(SCHEMA, records);
  times.push(performance.now() - t0);
  if (batch.numRows !== n) throw new Error('row count');
}
times.sort((a, b) => a - b);
console.log(`records → Arrow, ${n.toLocaleString()} × 8 columns: best ${times[0]!.toFixed(0)} ms, median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms (${(n / (times[0]! / 1000) / 1e6).toFixed(2)}M records/s best)`);
