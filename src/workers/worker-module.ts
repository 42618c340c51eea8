// Where a worker thread's code is: compiled (the installed package, dist/…/x.js) a worker runs
// the compiled module itself; from the TypeScript sources (tsx: tests, scripts, bin/floe.js) it
// boots through worker-boot.mjs, which registers tsx in the worker first.

export interface WorkerModule {
  /** The file the Worker runs. */
  readonly url: URL;
  /** workerData the boot file needs (merge your own fields in). */
  readonly data: { readonly entry: string };
}

/**
 * The worker module `name` (without extension) next to `callerUrl` (the caller's import.meta.url,
 * which tells compiled from source).
 */
export function workerModule(callerUrl: string, name: string): WorkerModule {
  const compiled = callerUrl.endsWith('.js');
  const entry = new URL(`./${name}.${compiled ? 'js' : 'ts'}`, callerUrl);
  const url = compiled ? entry : new URL('./worker-boot.mjs', import.meta.url);
  return { url, data: { entry: entry.href } };
}
