// Worker-thread side of the rewrite pool: runs one task at a time against local files, with its
// own WebAssembly instance (and heap), reporting progress and the result by message. A task is
// a whole group's rewrite (RewriteJob) or one slice of a group encoded into row groups, whose
// bytes go back to the splicing thread without a copy.
import { parentPort } from 'node:worker_threads';
import { LocalFileIO } from '../src/io/local-file-io.ts';
import { schemaFromJson } from '../src/spec/schema.ts';
import type { RewriteInput } from '../src/writer/data-file-rewriter.ts';
import { encodeRowGroupSlice, type EncodedSlice } from '../src/writer/row-group-slice-encoder.ts';
import { runRewriteJob, type RewriteJob } from './rewrite-data-files.ts';

/** A slice of a group: its inputs, and the group's schema, properties and row-group bound. */
export interface SliceJob {
  readonly inputs: readonly RewriteInput[];
  readonly schemaJson: Record<string, unknown>;
  readonly properties: Readonly<Record<string, string>>;
  readonly rowGroupSizeBytes?: number;
}

export type WorkerRequest = { id: number; job: RewriteJob } | { id: number; slice: SliceJob };
export type WorkerReply =
  | { id: number; type: 'input-bytes'; bytes: number }
  | { id: number; type: 'done'; result: Awaited<ReturnType<typeof runRewriteJob>> | EncodedSlice }
  | { id: number; type: 'error'; name: string; message: string };

const io = new LocalFileIO();
const port = parentPort!;
// Tasks run one after the other (the pool may send the next one early).
let queue: Promise<unknown> = Promise.resolve();
port.on('message', (req: WorkerRequest) => { queue = queue.then(() => runTask(req)); });

function runTask(req: WorkerRequest): Promise<void> {
  const reply = (r: WorkerReply, transfer?: ArrayBuffer[]): void => port.postMessage(r, transfer);
  const onInputFileDone = (bytes: number): void => reply({ id: req.id, type: 'input-bytes', bytes });
  const task: Promise<{ result: Awaited<ReturnType<typeof runRewriteJob>> | EncodedSlice; transfer?: ArrayBuffer[] }> = 'job' in req
    ? runRewriteJob(io, req.job, onInputFileDone).then((result) => ({ result }))
    : encodeRowGroupSlice(req.slice.inputs, {
      io, schema: schemaFromJson(req.slice.schemaJson), properties: req.slice.properties,
      ...(req.slice.rowGroupSizeBytes ? { rowGroupSizeBytes: req.slice.rowGroupSizeBytes } : {}),
    }).then((result) => ({ result, ...(result.bytes ? { transfer: [result.bytes.buffer as ArrayBuffer] } : {}) }));
  return task.then(
    ({ result, transfer }) => reply({ id: req.id, type: 'done', result }, transfer),
    (err: unknown) => reply({ id: req.id, type: 'error', name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) }),
  );
}
