#!/usr/bin/env node
// The installed `floe` command (package.json "bin" → dist/bin/floe-cli.js): the compiled CLI,
// plain JavaScript, no tsx. bin/floe.js is the same command run from the TypeScript sources,
// for the repository's tests and scripts.
import { main } from './floe-main.ts';

process.exitCode = await main(process.argv.slice(2));
