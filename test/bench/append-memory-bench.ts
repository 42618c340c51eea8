// Benchmark (not a test): peak RSS, records/s and MB/s of the real `floe append` process on
// NDJSON inputs of growing size, generated into a temp folder and deleted afterwards. The
// append streams its input into rolling data files, so the peak RSS must stay flat however
// large the input is. Peak RSS is the kernel's VmHWM of the child, sampled from this process.
//
//   npm run bench:append-memory                      # 100 MB, 1 GB and 2 GB
//   npm run bench:append-memory -- --sizes 100,500   # sizes in MB (10^6 bytes)
//   npm run bench:append-memory -- --floe /work/main # another checkout's bin/floe.js
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EVENTS_SCHEMA_JSON } from '../support/datagen.ts';
import { runMeasured, writeEventsNdjson } from '../support/ndjson-input.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,2000' },
    floe: { type: 'string', default: REPO },
    keep: { type: 'boolean', default: false },
  },
});

const mib = (n: number): string => (n / 1024 ** 2).toFixed(0);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-append-mem-'));
  const floe = (...a: string[]) => runMeasured(process.execPath, [path.join(args.floe, 'bin', 'floe.js'), '--warehouse', path.join(dir, 'wh'), ...a]);
  try {
    writeFileSync(path.join(dir, 'schema.json'), JSON.stringify(EVENTS_SCHEMA_JSON));
    await floe('namespace', 'create', 'bench');
    const idle = await floe('namespace', 'list');
    console.log(`floe at ${args.floe}; the bare process (floe namespace list) peaks at ${mib(idle.peakRssBytes)} MiB`);
    console.log('input MB | records     | files | peak RSS MiB | wall s | records/s | MB/s');
    for (const sizeMb of args.sizes.split(',').map(Number)) {
      const input = path.join(dir, `events-${sizeMb}.ndjson`);
      const gen = await writeEventsNdjson(input, sizeMb * 1e6);
      const table = `bench.events_${sizeMb}`;
      const created = await floe('table', 'create', table, '--schema', path.join(dir, 'schema.json'));
      if (created.code !== 0) throw new Error(created.stderr);
      const r = await floe('append', table, input);
      if (r.code !== 0) throw new Error(`append failed: ${r.stderr}`);
      const m = /appended (\d+) records in (\d+) file/.exec(r.stdout);
      if (!m || Number(m[1]) !== gen.lines) throw new Error(`expected ${gen.lines} records: ${r.stdout}`);
      const s = r.wallMs / 1000;
      console.log(`${String(sizeMb).padStart(8)} | ${m[1]!.padStart(11)} | ${m[2]!.padStart(5)} | ${mib(r.peakRssBytes).padStart(12)} | ${s.toFixed(1).padStart(6)} | ${Math.round(gen.lines / s).toString().padStart(9)} | ${(statSync(input).size / 1e6 / s).toFixed(1)}`);
      rmSync(input);
    }
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

await main();
