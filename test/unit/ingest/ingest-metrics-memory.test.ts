// The ingest metric for memory the process metrics do not show: parquet-wasm's linear memory on
// the main thread and in the encoder workers (floe_ingest_wasm_memory_bytes{thread}).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IngestMetrics } from '../../../src/ingest/ingest-metrics.ts';

describe('floe_ingest_wasm_memory_bytes', () => {
  test('reports the main thread\'s parquet-wasm memory (instantiated at import) and the encoder workers\' (none started: 0)', async () => {
    const text = await new IngestMetrics().registry.getSingleMetricAsString('floe_ingest_wasm_memory_bytes');
    const main = /floe_ingest_wasm_memory_bytes\{thread="main"\} (\d+)/.exec(text);
    const encoders = /floe_ingest_wasm_memory_bytes\{thread="encoders"\} (\d+)/.exec(text);
    assert.ok(main && Number(main[1]) >= 64 * 1024 && Number(main[1]) % 65_536 === 0, `main: whole WASM pages expected\n${text}`);
    assert.equal(encoders?.[1], '0', text);
  });
});
