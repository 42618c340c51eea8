// A streamed S3 object with bounded memory: bytes gather into one part (s3.multipart.part-size-bytes);
// full parts upload while the writer goes on, at most s3.multipart.num-threads at a time (a write
// waits when that many are in flight), so memory stays at about part size × (threads + 1)
// whatever the file's size. A file smaller than one part is a single conditional PutObject.
// Completion is conditional (`If-None-Match: *`): an existing object is never replaced. A failed
// or aborted file aborts its upload; one a killed process leaves is aborted by
// `abortStaleUploads` (the compaction service does so on start).
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AlreadyExistsError, FileIOError } from '../errors.ts';
import type { OutputFile } from './file-io.ts';
import { attemptsOf, isPreconditionFailed, s3Error } from './s3-errors.ts';
import type { S3FileIO } from './s3-file-io.ts';
import type { S3Location } from './s3-location.ts';
import { s3Stats } from './s3-stats.ts';

export function createMultipartOutput(io: S3FileIO, loc: S3Location, uri: string): OutputFile {
  const partSize = io.settings.partSizeBytes;
  const maxInFlight = io.settings.uploadConcurrency;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let size = 0;
  let uploadId: string | undefined;
  const parts: { PartNumber: number; ETag: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let finished = false;

  const takePending = (): Uint8Array => {
    const part = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return part;
  };

  const startUpload = async (): Promise<string> => {
    const res = await io.call('CreateMultipartUpload', uri, () => io.client.send(new CreateMultipartUploadCommand({ Bucket: loc.bucket, Key: loc.key })));
    if (!res.UploadId) throw new FileIOError(`cannot write ${uri}: CreateMultipartUpload answered without an upload id`, { retryable: true });
    return res.UploadId;
  };

  const uploadPart = (id: string, partNumber: number, body: Uint8Array): Promise<void> => {
    const p = io.call('UploadPart', uri, () => io.client.send(new UploadPartCommand({
      Bucket: loc.bucket, Key: loc.key, UploadId: id, PartNumber: partNumber, Body: body, ContentLength: body.length,
    }))).then((res) => {
      if (!res.ETag) throw new FileIOError(`cannot write ${uri}: part ${partNumber} uploaded without an ETag`, { retryable: true });
      parts.push({ PartNumber: partNumber, ETag: res.ETag });
      s3Stats.bytesUploaded += body.length;
    }).catch((err: unknown) => { failure ??= err; }).finally(() => { inFlight.delete(p); });
    inFlight.add(p);
    return p;
  };

  const check = (): void => {
    if (failure !== undefined) throw failure instanceof FileIOError ? failure : s3Error('write', uri, failure, io.endpointLabel);
    if (finished) throw new FileIOError(`cannot write ${uri}: the file is already closed or aborted`);
  };

  const abortUpload = async (): Promise<void> => {
    finished = true;
    await Promise.allSettled([...inFlight]);
    pending = [];
    if (uploadId !== undefined) {
      const id = uploadId;
      uploadId = undefined;
      await io.abortUpload(loc.bucket, loc.key, id).catch(() => undefined);
    }
  };

  const failWith = async (err: unknown): Promise<never> => {
    await abortUpload();
    throw err instanceof FileIOError || err instanceof AlreadyExistsError ? err : s3Error('write', uri, err, io.endpointLabel);
  };

  let nextPart = 1;
  return {
    write: async (chunk) => {
      check();
      if (chunk.length === 0) return;
      // Copied: a caller may reuse its buffer once write resolves.
      pending.push(Uint8Array.prototype.slice.call(chunk));
      pendingBytes += chunk.length;
      size += chunk.length;
      if (pendingBytes < partSize) return;
      try {
        uploadId ??= await startUpload();
        while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
        check();
        void uploadPart(uploadId, nextPart++, takePending());
      } catch (err) {
        await failWith(err);
      }
    },
    close: async () => {
      check();
      try {
        if (uploadId === undefined) {
          finished = true;
          await io.putIfAbsent(loc, uri, takePending());
          return size;
        }
        if (pendingBytes > 0) void uploadPart(uploadId, nextPart++, takePending());
        while (inFlight.size > 0) await Promise.race(inFlight);
        if (failure !== undefined) throw failure;
        finished = true;
        parts.sort((a, b) => a.PartNumber - b.PartNumber);
        await complete(io, loc, uri, uploadId, parts, size);
        uploadId = undefined;
        return size;
      } catch (err) {
        return failWith(err);
      }
    },
    abort: abortUpload,
  };
}

async function complete(io: S3FileIO, loc: S3Location, uri: string, uploadId: string, parts: { PartNumber: number; ETag: string }[], size: number): Promise<void> {
  try {
    await io.callRaw('CompleteMultipartUpload', () => io.client.send(new CompleteMultipartUploadCommand({
      Bucket: loc.bucket, Key: loc.key, UploadId: uploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: '*',
    })));
  } catch (err) {
    if (isPreconditionFailed(err)) throw new AlreadyExistsError(`file already exists: ${uri}`);
    // A retry after a completion whose answer was lost finds the upload gone: the object is ours
    // when it is there with exactly our size.
    if ((err as { name?: string }).name === 'NoSuchUpload' && attemptsOf(err) > 1 && (await io.head(uri))?.size === size) return;
    throw err;
  }
}
