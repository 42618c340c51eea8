// A group of small files rewritten on several worker threads into the same output files:
// the group's inputs are cut into consecutive slices, each slice is decoded and encoded into
// row groups on whichever worker is free (src/writer/row-group-slice-encoder.ts), and this
// thread splices the encoded row groups, in input order, into the outputs under one footer
// (parquet-row-group-copy.ts), rolling files at the group's split size. parquet-wasm runs on one
// core per instance, so one output file no longer means one core.
import { randomUUID } from 'node:crypto';
import { parseParquetFooter } from '../src/format/parquet-footer.ts';
import { footerBytesOf, ParquetRowGroupCopyWriter, parquetFooterLayout, type ParquetFooterLayout } from '../src/format/parquet-row-group-copy.ts';
import { deleteAll, type FileIO } from '../src/io/file-io.ts';
import type { DataFile } from '../src/spec/data-file.ts';
import { partitionType } from '../src/spec/partition-spec.ts';
import { schemaFromJson } from '../src/spec/schema.ts';
import { intProperty, PARQUET_ROW_GROUP_SIZE_BYTES } from '../src/spec/table-properties.ts';
import { DEFAULT_REWRITE_ROW_GROUP_BYTES, describeOutput, type RewriteInput } from '../src/writer/data-file-rewriter.ts';
import { partitionPath } from '../src/writer/data-file-writer.ts';
import { COPY_ROW_GROUP_FRACTION, type CopyingRewriteResult } from '../src/writer/row-group-copy-rewriter.ts';
import type { EncodedSlice } from '../src/writer/row-group-slice-encoder.ts';
import { expectedOutputFiles } from './planner.ts';
import type { RewriteJob } from './rewrite-data-files.ts';

/** Encodes one slice somewhere (a worker thread, or this thread). Progress (one event per input
 * file) is reported here when the slice comes back: 2,000 small files would otherwise cost
 * 2,000 thread messages. */
export type SliceEncoder = (inputs: readonly RewriteInput[]) => Promise<EncodedSlice>;

/** Inputs above this are not "small": they are streamed by the sequential rewriter instead. */
const SLICE_MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Arrow bytes per input byte assumed until the first slice reports the real ratio (zstd
 * Parquet of mixed columns decodes to 2–5× its size). */
const FIRST_EXPANSION_GUESS = 3;

/** Bytes of the files of `inputs`. */
const bytesOf = (inputs: readonly RewriteInput[]): number => inputs.reduce((s, i) => s + Number(i.file.fileSizeInBytes), 0);

function rowGroupBytesOf(job: RewriteJob): number {
  return job.rowGroupSizeBytes ?? Math.min(intProperty(job.properties, PARQUET_ROW_GROUP_SIZE_BYTES), DEFAULT_REWRITE_ROW_GROUP_BYTES);
}

/** Input bytes per slice: about one output row group's worth, at most a quarter of the target
 * file (so outputs roll close to their target), and at most an even share over `spread` slots. */
function sliceBudget(job: RewriteJob, expansion: number, spread: number): number {
  const total = bytesOf(job.inputs);
  return Math.max(1, Math.min(rowGroupBytesOf(job) / expansion, job.planner.targetFileSizeBytes / 4, Math.ceil(total / Math.max(1, spread))));
}

/**
 * Whether a group is rewritten in slices: only small files (each read whole), none with a row
 * group large enough to be copied as is (that path stays with the copying rewriter), and enough
 * bytes for at least two slices when spread over `spread` workers.
 */
export function splicedRewriteApplies(job: RewriteJob, spread: number): boolean {
  if (job.inputs.length < 2) return false;
  const copyMin = job.copyMinRowGroupBytes ?? COPY_ROW_GROUP_FRACTION * intProperty(job.properties, PARQUET_ROW_GROUP_SIZE_BYTES);
  for (const i of job.inputs) {
    const size = Number(i.file.fileSizeInBytes);
    if (i.file.fileFormat !== 'parquet' || size >= SLICE_MAX_FILE_BYTES || (copyMin > 0 && size >= copyMin)) return false;
    if (i.file.specId !== job.inputs[0]!.file.specId) return false;
  }
  return bytesOf(job.inputs) > sliceBudget(job, FIRST_EXPANSION_GUESS, spread);
}

/**
 * Rewrites `job` by slices, `slots` of them encoding at once through `encode`, spliced in order
 * into output files of about the group's split size. Returns undefined, having written nothing,
 * when the inputs turn out to have more than one physical schema (the caller then rewrites the
 * group sequentially). On any failure every output of the group is removed and the slice's
 * error (which names its file) is thrown.
 */
export async function rewriteSpliced(io: FileIO, job: RewriteJob, encode: SliceEncoder, opts: { slots: number; spread: number; onInputFileDone?: (bytes: number) => void }):
Promise<(CopyingRewriteResult & { slices: number }) | undefined> {
  const inputs = job.inputs;
  const cfg = job.planner;
  const schema = schemaFromJson(job.schemaJson);
  const fields = partitionType(job.spec, schema);
  const like = inputs[0]!.file;
  const dir = fields.length > 0 ? `${job.location}/data/${partitionPath(fields, like.partition)}` : `${job.location}/data`;
  const target = { io, schema, spec: job.spec, location: job.location, properties: job.properties, targetFileSizeBytes: cfg.targetFileSizeBytes };
  const totalInput = bytesOf(inputs);
  const opId = randomUUID();

  // Slices are cut as they are handed out, sized by the expansion measured on finished slices.
  const measured = { arrow: 0, input: 0 };
  let cursor = 0;
  let slices = 0;
  const nextSlice = (): RewriteInput[] | undefined => {
    if (cursor >= inputs.length) return undefined;
    const expansion = measured.input > 0 && measured.arrow > 0 ? measured.arrow / measured.input : FIRST_EXPANSION_GUESS;
    const budget = sliceBudget(job, expansion, opts.spread);
    const slice: RewriteInput[] = [];
    let bytes = 0;
    while (cursor < inputs.length && (slice.length === 0 || bytes + Number(inputs[cursor]!.file.fileSizeInBytes) <= budget)) {
      bytes += Number(inputs[cursor]!.file.fileSizeInBytes);
      slice.push(inputs[cursor++]!);
    }
    slices++;
    return slice;
  };
  // Encodings in input order: `slots` running, one more waiting (a worker takes its next
  // slice early), plus the one being spliced.
  const inFlight: { inputs: readonly RewriteInput[]; encoded: Promise<EncodedSlice> }[] = [];
  const dispatch = (): void => {
    while (inFlight.length < opts.slots + 1) {
      const slice = nextSlice();
      if (!slice) return;
      const encoded = encode(slice);
      // A slice that fails after an earlier one stopped the group is not reported twice.
      encoded.catch(() => undefined);
      inFlight.push({ inputs: slice, encoded });
    }
  };

  const files: DataFile[] = [];
  const result = { rowsRead: 0, rowsDeleted: 0, copiedRowGroups: 0, copiedBytes: 0 };
  let base: { layout: ParquetFooterLayout; schemaKey: string } | undefined;
  let out: { path: string; writer: ParquetRowGroupCopyWriter } | undefined;
  const spliced = { input: 0, output: 0 };
  const fileTarget = (): number => {
    // Output bytes per input byte measured on what was spliced so far (1 before that).
    const estimate = spliced.input > 0 ? totalInput * (spliced.output / spliced.input) : totalInput;
    return Math.min(Math.ceil(estimate / expectedOutputFiles(estimate, cfg)), cfg.maxFileSizeBytes);
  };
  const closeOutput = async (): Promise<void> => {
    if (!out) return;
    const { path, writer } = out;
    out = undefined;
    const size = await writer.close();
    try {
      files.push(await describeOutput(target, path, size, like));
    } catch (err) {
      await io.delete(path);
      throw err;
    }
  };

  try {
    dispatch();
    while (inFlight.length > 0) {
      const pending = inFlight.shift()!;
      dispatch();
      const slice = await pending.encoded;
      if (slice.mixedSchemas) throw MIXED_SCHEMAS;
      result.rowsRead += slice.rowsRead;
      result.rowsDeleted += slice.rowsDeleted;
      measured.arrow += slice.arrowBytes;
      measured.input += slice.inputBytes;
      for (const i of pending.inputs) opts.onInputFileDone?.(Number(i.file.fileSizeInBytes));
      if (!slice.bytes) { spliced.input += slice.inputBytes; continue; }
      const bytes = slice.bytes;
      const footer = footerBytesOf(bytes);
      const layout = parquetFooterLayout(footer, 'encoded slice');
      const schemaKey = parseParquetFooter(footer, 'encoded slice').schemaKey;
      base ??= { layout, schemaKey };
      // One footer over every slice: only for the same physical schema, from the same writer.
      if (schemaKey !== base.schemaKey || layout.createdBy !== base.layout.createdBy) throw MIXED_SCHEMAS;
      for (const rg of layout.rowGroups) {
        // A row group is not split: an output ends before one when it lands closer to its target that way.
        if (out && out.writer.bytesWritten > 0 && out.writer.bytesWritten + Number(rg.compressedBytes) / 2 >= fileTarget()) await closeOutput();
        if (!out) {
          const path = `${dir}/00000-${files.length}-${opId}.parquet`;
          out = { path, writer: new ParquetRowGroupCopyWriter(await io.createNew(path), base.layout, path) };
        }
        await out.writer.append(rg, bytes, 0n);
      }
      spliced.input += slice.inputBytes;
      spliced.output += bytes.length;
    }
    await closeOutput();
  } catch (err) {
    inFlight.splice(0);
    if (out) await out.writer.abort();
    await deleteAll(io, files.map((f) => f.filePath));
    if (err === MIXED_SCHEMAS) return undefined;
    throw err;
  }
  return { files, ...result, slices };
}

/** Thrown (a signal, not an error) when the slices hold more than one physical schema: the group
 * goes to the sequential rewriter. */
const MIXED_SCHEMAS = Object.freeze({ mixedSchemas: true });
