#!/usr/bin/env node
// The installed `floe` command (package.json "bin" → dist/bin/floe-cli.js): the compiled CLI,
// plain JavaScript, no tsx. bin/floe.js is the same command run from the TypeScript sources,
// for the repository's tests and scripts.
import module from 'node:module';

// Node >= 22.1 can keep the compiled code of floe's modules and its dependencies on disk between
// runs (a CLI's start-up is mostly module compilation); Node 20 has no such cache and skips this.
// It must be on before the modules load, hence the dynamic import below.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { main } = await import('./floe-main.ts');

process.exitCode = await main(process.argv.slice(2));
