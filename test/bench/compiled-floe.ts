// Benchmarks run floe as users install it: the compiled package in dist/ (`npm run build`, which
// is incremental: a few seconds when nothing changed). Under the repo's tsx launcher every
// worker thread compiles TypeScript as it starts and the loader keeps a thread of its own, which
// a user of the package never pays. `--source` in a bench picks the TypeScript sources instead.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The compiled CLI and library entry points. */
export const DIST_CLI = path.join(REPO, 'dist/bin/floe-cli.js');
export const DIST_API = path.join(REPO, 'dist/api/index.js');
export const DIST_COMPACTION_API = path.join(REPO, 'dist/api/compaction.js');
/** The repo's launcher from TypeScript sources (tsx). */
export const SOURCE_CLI = path.join(REPO, 'bin/floe.js');

let built = false;

/** Brings dist/ up to date (once per bench process); throws if the build fails. */
export function buildFloe(): void {
  if (built) return;
  console.log('$ npm run build   # the benchmarks run floe as the compiled package (dist/); --source: from TypeScript');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
  built = true;
}

/** The floe CLI script to run with node: compiled (built first) unless `source`. */
export function floeCli(source: boolean): string {
  if (source) return SOURCE_CLI;
  buildFloe();
  return DIST_CLI;
}
