#!/usr/bin/env node
// Entry point of the `floe` command: loads the TypeScript sources through tsx and wires the
// catalog implementations into the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./floe-main.ts');
process.exitCode = await main(process.argv.slice(2));
