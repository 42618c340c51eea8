// Benchmark (not a test): records → Arrow conversion alone, on the append bench's 8-column
// event records, so changes to src/writer/record-converter.ts can be measured without the
// Parquet encoder or a catalog.
//
//   node --import tsx test/bench/to-arrow-bench.ts [--records 1000000] [--runs 5] [--reference] [--json]
// (--reference: the column-by-column reference converter, for the before/after comparison;
// --json: records parsed from JSON text, whose strings are flat, as ingest gets them)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { recordsToArrow as fast, recordsToArrowReference } from '../../src/writer/record-converter.ts';
import { EVENT_TYPES, EVENTS_SCHEMA_JSON } from '../support/datagen.ts';

const { values: args } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' }, reference: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
const recordsToArrow = args.reference ? recordsToArrowReference : fast;
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

// Fresh records for every run, as an append gets them: the first conversion of new objects
// (young-generation GC, cold caches) is what users pay. CPU time is reported beside wall time
// because on a shared machine wall time mostly measures the neighbours.
const n = Number(args.records);
const wall: number[] = [];
const cpu: number[] = [];
for (let r = 0; r < Number(args.runs); r++) {
  // --json: records as JSON.parse returns them (flat strings), as ingest gets them.
  const records = args.json ? (JSON.parse(JSON.stringify(makeRecords(n))) as unknown[]) : makeRecords(n);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const batch = recordsToArrow(SCHEMA, records);
  wall.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  if (batch.numRows !== n) throw new Error('row count');
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const best = (xs: number[]): number => Math.min(...xs);
console.log(`records → Arrow, ${n.toLocaleString()} × 8 columns, fresh records each run (load ${os.loadavg()[0]!.toFixed(1)}):`);
console.log(`  wall: first ${wall[0]!.toFixed(0)} ms, best ${best(wall).toFixed(0)} ms, median ${med(wall).toFixed(0)} ms (${(n / (best(wall) / 1000) / 1e6).toFixed(2)}M records/s best)`);
console.log(`  CPU (all threads, GC included): first ${cpu[0]!.toFixed(0)} ms, best ${best(cpu).toFixed(0)} ms, median ${med(cpu).toFixed(0)} ms`);
