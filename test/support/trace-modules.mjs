// `node --import ./test/support/trace-modules.mjs …` appends the URL of every module the process
// resolves through the ES module loader (one a line) to the file named by FLOE_TRACE_MODULES.
// Used by the start-up tests to see what a CLI command loads; a package imported from ESM shows
// up by its entry file (what it requires inside itself does not, nor is needed).
import { register } from 'node:module';

register(`data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.FLOE_TRACE_MODULES) appendFileSync(process.env.FLOE_TRACE_MODULES, r.url + '\\n');
  return r;
}
`)}`);
