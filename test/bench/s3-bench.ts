// Benchmark (not a test): floe on an S3 warehouse (SeaweedFS on loopback, scripts/s3.sh) against
// floe on a local warehouse, same data, same run, each command a real `floe` process whose peak
// RSS is sampled from /proc:
//   - append: N NDJSON files of rows {id, payload} (incompressible base64 payloads), one
//     `floe append` each; records/s and MB/s of NDJSON input over the summed wall times
//     (process start included: see the `floe namespace list` line for that fixed cost);
//   - compaction: S small files (appended in-process, untimed) → one file by `floe compact`;
//     MB/s of input Parquet over the compactor's own duration (its --json report) and wall;
//   - peer: pyiceberg appending the same NDJSON files (pyarrow.json → table.append) to a table
//     in the same S3 bucket through its SQL catalog, one commit each.
// Starts the S3 server itself (scripts/s3.sh up; already running is fine) and works in a fresh
// bucket it deletes afterwards.
//
//   npm run bench:s3                                       # 5 appends × 200,000 rows, 20 files compacted
//   npm run bench:s3 -- --appends 3 --rows 50000 --payload-bytes 768 --no-pyiceberg
//
// Needs the interop readers for the pyiceberg side: `bash scripts/setup-readers.sh` (FLOE_VENV).
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openCatalog } from '../../catalog/index.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { runMeasured, type ChildRun } from '../support/ndjson-input.ts';
import { emptyChecksum, randomPayloadNdjson, RANDOM_ROWS_SCHEMA_JSON } from '../support/random-payload-rows.ts';
import { REPO_ROOT, VENV_PYTHON } from '../support/readers.ts';
import { emptyAndDeleteBucket, ensureS3, freshBucket, type S3Server } from '../support/s3.ts';

const { values: args } = parseArgs({
  options: {
    appends: { type: 'string', default: '5' },
    rows: { type: 'string', default: '200000' },
    /** Random bytes per payload before base64 (4/3 as many characters). */
    'payload-bytes': { type: 'string', default: '256' },
    'small-files': { type: 'string', default: '20' },
    'small-rows': { type: 'string', default: '10000' },
    'no-pyiceberg': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const APPENDS = Number(args.appends);
const ROWS = Number(args.rows);
const PAYLOAD = Number(args['payload-bytes']);
const SMALL_FILES = Number(args['small-files']);
const SMALL_ROWS = Number(args['small-rows']);
const MB = 1e6;
const MiB = 1024 * 1024;

interface Target { readonly name: 'local' | 'S3'; readonly globals: string[]; readonly catalog: Catalog }

interface AppendFigures { wallMs: number; peakRss: number }
interface CompactFigures { wallMs: number; durationMs: number; inputBytes: number; outputFiles: number; peakRss: number }

async function writeNdjson(file: string, from: number, rows: number, seed: number): Promise<number> {
  const out = createWriteStream(file);
  for (const block of randomPayloadNdjson(from, rows, emptyChecksum(), { randomBytes: PAYLOAD, seed })) {
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return statSync(file).size;
}

function floe(t: Target, env: NodeJS.ProcessEnv, ...a: string[]): Promise<ChildRun> {
  return runMeasured(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), ...t.globals, ...a], env);
}

function ok(r: ChildRun, what: string): ChildRun {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r;
}

async function main(): Promise<void> {
  const server: S3Server = await ensureS3();
  const bucket = await freshBucket(server, 's3bench');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-s3bench-'));
  const s3Props = {
    's3.endpoint': server.endpoint, 's3.path-style-access': 'true', 's3.region': server.region,
    's3.access-key-id': server.accessKeyId, 's3.secret-access-key': server.secretAccessKey,
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env, FLOE_S3_ENDPOINT: server.endpoint, FLOE_S3_PATH_STYLE_ACCESS: 'true', FLOE_S3_REGION: server.region,
    FLOE_S3_ACCESS_KEY_ID: server.accessKeyId, FLOE_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
  };
  const targets: Target[] = [];
  try {
    process.stderr.write(`generating ${APPENDS} × ${ROWS} rows and ${SMALL_FILES} × ${SMALL_ROWS} rows (payload ${PAYLOAD} random bytes as base64)\n`);
    const inputs: { file: string; bytes: number }[] = [];
    for (let i = 0; i < APPENDS; i++) {
      const file = path.join(dir, `append-${i}.ndjson`);
      inputs.push({ file, bytes: await writeNdjson(file, i * ROWS, ROWS, i + 1) });
    }
    const smallRecords: { id: number; payload: string }[][] = [];
    for (let i = 0; i < SMALL_FILES; i++) {
      const lines = [...randomPayloadNdjson(i * SMALL_ROWS, SMALL_ROWS, emptyChecksum(), { randomBytes: PAYLOAD, seed: 1000 + i })].map((b) => b.toString()).join('');
      smallRecords.push(lines.trimEnd().split('\n').map((l) => JSON.parse(l) as { id: number; payload: string }));
    }
    const inputBytes = inputs.reduce((s, x) => s + x.bytes, 0);
    writeFileSync(path.join(dir, 'schema.json'), JSON.stringify(RANDOM_ROWS_SCHEMA_JSON));

    const localWh = path.join(dir, 'local-wh');
    targets.push({ name: 'local', globals: ['--warehouse', localWh], catalog: await openCatalog({ warehouse: localWh }) });
    targets.push({
      name: 'S3', globals: ['--warehouse', `s3://${bucket}/floe`, '--catalog', `sqlite:${path.join(dir, 's3-catalog.db')}`],
      catalog: await openCatalog({ warehouse: `s3://${bucket}/floe`, uri: `sqlite:${path.join(dir, 's3-catalog.db')}`, properties: s3Props }),
    });

    const appendFigures = new Map<string, AppendFigures>();
    const compactFigures = new Map<string, CompactFigures>();
    const startMs = new Map<string, number>();
    for (const t of targets) {
      ok(await floe(t, env, 'namespace', 'create', 'bench'), 'namespace create');
      startMs.set(t.name, ok(await floe(t, env, 'namespace', 'list'), 'namespace list').wallMs);
      ok(await floe(t, env, 'table', 'create', 'bench.appends', '--schema', path.join(dir, 'schema.json')), 'table create');
      const a: AppendFigures = { wallMs: 0, peakRss: 0 };
      for (const [i, input] of inputs.entries()) {
        const r = ok(await floe(t, env, 'append', 'bench.appends', input.file), `${t.name} append ${i}`);
        a.wallMs += r.wallMs;
        a.peakRss = Math.max(a.peakRss, r.peakRssBytes);
        process.stderr.write(`  ${t.name} append ${i + 1}/${APPENDS}: ${(r.wallMs / 1000).toFixed(1)} s, RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB\n`);
      }
      appendFigures.set(t.name, a);

      ok(await floe(t, env, 'table', 'create', 'bench.small', '--schema', path.join(dir, 'schema.json')), 'table create');
      for (const records of smallRecords) await appendRecords(t.catalog, { namespace: ['bench'], name: 'small' }, records);
      const r = ok(await floe(t, env, 'compact', 'bench.small', '--min-input-files', '2', '--target-file-size', '1GiB', '--json'), `${t.name} compact`);
      const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rewrittenFiles: number; rewrittenBytes: number; addedFiles: number; durationMs: number } | { rewrittenFiles: number; rewrittenBytes: number; addedFiles: number; durationMs: number }[];
      const rep = Array.isArray(report) ? report[0]! : report;
      if (rep.rewrittenFiles !== SMALL_FILES) throw new Error(`${t.name} compaction rewrote ${rep.rewrittenFiles} of ${SMALL_FILES} files: ${r.stdout}`);
      compactFigures.set(t.name, { wallMs: r.wallMs, durationMs: rep.durationMs, inputBytes: rep.rewrittenBytes, outputFiles: rep.addedFiles, peakRss: r.peakRssBytes });
      process.stderr.write(`  ${t.name} compaction: ${(r.wallMs / 1000).toFixed(1)} s, RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB\n`);
    }

    let py: { appendMs: number; readMs: number; peakRss: number; fileBytes: number } | undefined;
    if (!args['no-pyiceberg'] && existsSync(VENV_PYTHON)) {
      const r = ok(await runMeasured(VENV_PYTHON, [path.join(REPO_ROOT, 'test/bench/s3_append_pyiceberg.py'), path.join(dir, 'py-catalog.db'), `s3://${bucket}/py`,
        server.endpoint, server.accessKeyId, server.secretAccessKey, server.region, ...inputs.map((x) => x.file)]), 'pyiceberg append');
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { appends: { rows: number; readMs: number; appendMs: number }[]; fileBytes: number };
      py = {
        appendMs: out.appends.reduce((s, x) => s + x.appendMs, 0), readMs: out.appends.reduce((s, x) => s + x.readMs, 0),
        peakRss: r.peakRssBytes, fileBytes: out.fileBytes,
      };
    }

    const totalRows = APPENDS * ROWS;
    const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
    console.log(`\nfloe S3 benchmark: SeaweedFS on ${server.endpoint} (loopback), ${os.cpus().length} cores, node ${process.version}`);
    console.log(`append: ${APPENDS} × ${ROWS.toLocaleString()} rows {id long, payload string of ${Math.ceil(PAYLOAD / 3) * 4}+ chars of base64}, ${(inputBytes / MB).toFixed(0)} MB NDJSON, one commit per file, zstd`);
    console.log(line(['', 'records/s', 'MB/s NDJSON', 'peak RSS MiB', 'wall s (sum)']));
    console.log(line(['---', '---:', '---:', '---:', '---:']));
    for (const [name, a] of appendFigures) {
      console.log(line([`floe append, ${name}`, (totalRows / (a.wallMs / 1000)).toFixed(0), (inputBytes / MB / (a.wallMs / 1000)).toFixed(1), (a.peakRss / MiB).toFixed(0), (a.wallMs / 1000).toFixed(1)]));
    }
    if (py) {
      console.log(line(['pyiceberg append, S3 (table.append only)', (totalRows / (py.appendMs / 1000)).toFixed(0), (inputBytes / MB / (py.appendMs / 1000)).toFixed(1), (py.peakRss / MiB).toFixed(0), (py.appendMs / 1000).toFixed(1)]));
      const both = py.appendMs + py.readMs;
      console.log(line(['pyiceberg append, S3 (pyarrow.json + append)', (totalRows / (both / 1000)).toFixed(0), (inputBytes / MB / (both / 1000)).toFixed(1), (py.peakRss / MiB).toFixed(0), (both / 1000).toFixed(1)]));
    }
    const la = appendFigures.get('local')!;
    const sa = appendFigures.get('S3')!;
    console.log(`ratio S3/local (throughput): append ${(la.wallMs / sa.wallMs).toFixed(2)}; peak RSS S3/local ${(sa.peakRss / la.peakRss).toFixed(2)}`);
    if (py) console.log(`ratio floe/pyiceberg on S3 (throughput, floe incl. NDJSON parsing and process start): vs table.append only ${((py.appendMs) / sa.wallMs).toFixed(2)}, vs pyarrow.json + append ${((py.appendMs + py.readMs) / sa.wallMs).toFixed(2)}`);
    console.log(`process start (floe namespace list): local ${(startMs.get('local')! / 1000).toFixed(1)} s, S3 ${(startMs.get('S3')! / 1000).toFixed(1)} s (included in every floe wall time above)`);

    console.log(`\ncompaction: ${SMALL_FILES} files × ${SMALL_ROWS.toLocaleString()} rows → 1 file (floe compact, binpack, target 1 GiB)`);
    console.log(line(['', 'input MB', 'MB/s (compactor)', 'MB/s (wall)', 'peak RSS MiB', 'output files']));
    console.log(line(['---', '---:', '---:', '---:', '---:', '---:']));
    for (const [name, c] of compactFigures) {
      console.log(line([`floe compact, ${name}`, (c.inputBytes / MB).toFixed(1), (c.inputBytes / MB / (c.durationMs / 1000)).toFixed(1), (c.inputBytes / MB / (c.wallMs / 1000)).toFixed(1), (c.peakRss / MiB).toFixed(0), String(c.outputFiles)]));
    }
    const lc = compactFigures.get('local')!;
    const sc = compactFigures.get('S3')!;
    console.log(`ratio S3/local (throughput): compaction ${(lc.durationMs / sc.durationMs).toFixed(2)} (compactor), ${(lc.wallMs / sc.wallMs).toFixed(2)} (wall)`);
  } finally {
    for (const t of targets) await t.catalog.close().catch(() => undefined);
    if (args.keep) {
      console.log(`kept ${dir} and bucket ${bucket}`);
    } else {
      await emptyAndDeleteBucket(server, bucket).catch((e: unknown) => process.stderr.write(`cleanup of ${bucket}: ${String(e)}\n`));
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

await main();
