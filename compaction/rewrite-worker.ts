// Worker-thread side of the rewrite pool: runs one RewriteJob at a time against local files,
// with its own WebAssembly instance (and heap), reporting progress and the result by message.
import { parentPort } from 'node:worker_threads';
import { LocalFileIO } from '../src/io/local-file-io.ts';
import { runRewriteJob, type RewriteJob } from './rewrite-data-files.ts';

export type WorkerRequest = { id: number; job: RewriteJob };
export type WorkerReply =
  | { id: number; type: 'input-bytes'; bytes: number }
  | { id: number; type: 'done'; result: Awaited<ReturnType<typeof runRewriteJob>> }
  | { id: number; type: 'error'; name: string; message: string };

const io = new LocalFileIO();
const port = parentPort!;
port.on('message', (req: WorkerRequest) => {
  const reply = (r: WorkerReply): void => port.postMessage(r);
  runRewriteJob(io, req.job, (bytes) => reply({ id: req.id, type: 'input-bytes', bytes })).then(
    (result) => reply({ id: req.id, type: 'done', result }),
    (err: unknown) => reply({ id: req.id, type: 'error', name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) }),
  );
});
