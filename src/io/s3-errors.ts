// One-line errors from the AWS SDK's: they name the object or bucket and the setting to check,
// say whether a retry can help, and never carry a secret (the SDK's own messages hold none, and
// the endpoint is shown without credentials).
import { AlreadyExistsError, FileIOError, NotFoundError, type FloeError } from '../errors.ts';

export interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $retryable?: unknown;
}

export const statusOf = (err: unknown): number | undefined => (err as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
export const attemptsOf = (err: unknown): number => (err as SdkErrorShape | undefined)?.$metadata?.attempts ?? 1;
const nameOf = (err: unknown): string => {
  const e = err as SdkErrorShape | undefined;
  return e?.name ?? e?.Code ?? e?.code ?? 'Error';
};

export function isNotFound(err: unknown): boolean {
  const n = nameOf(err);
  return n === 'NoSuchKey' || n === 'NotFound' || (statusOf(err) === 404 && n !== 'NoSuchBucket' && n !== 'NoSuchUpload');
}

export function isPreconditionFailed(err: unknown): boolean {
  return nameOf(err) === 'PreconditionFailed' || statusOf(err) === 412;
}

/** A one-line FloeError for a failed S3 call on `uri`. */
export function s3Error(op: string, uri: string, err: unknown, endpoint: string): FloeError {
  if (err instanceof FileIOError || err instanceof NotFoundError || err instanceof AlreadyExistsError) return err;
  const name = nameOf(err);
  const status = statusOf(err);
  const code = (err as { code?: string } | undefined)?.code;
  const attempts = attemptsOf(err);
  const tried = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  const at = `${op} ${uri}`;
  if (isNotFound(err)) return new NotFoundError(`file not found: ${uri}`);
  switch (name) {
    case 'NoSuchBucket':
      return new FileIOError(`cannot ${at}: bucket does not exist at ${endpoint} (check the warehouse/location and s3.endpoint)`);
    case 'InvalidAccessKeyId':
      return new FileIOError(`cannot ${at}: ${endpoint} does not know the access key (check s3.access-key-id / AWS_ACCESS_KEY_ID)`);
    case 'SignatureDoesNotMatch':
      return new FileIOError(`cannot ${at}: ${endpoint} rejected the request signature (check s3.secret-access-key / AWS_SECRET_ACCESS_KEY)`);
    case 'AccessDenied': case 'Forbidden':
      return new FileIOError(`cannot ${at}: access denied by ${endpoint} (check the credentials' permissions on this bucket)`);
    case 'KeyTooLongError':
      return new FileIOError(`cannot ${at}: the key is longer than ${endpoint} allows (S3: 1,024 bytes; a long partition value makes a long key: partition by truncate(N, column) instead)`);
    case 'CredentialsProviderError':
      return new FileIOError(`cannot ${at}: no S3 credentials (set s3.access-key-id and s3.secret-access-key, FLOE_S3_ACCESS_KEY_ID/FLOE_S3_SECRET_ACCESS_KEY or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`);
    default: break;
  }
  if (status === 403) return new FileIOError(`cannot ${at}: access denied by ${endpoint} (HTTP 403; check the credentials)`);
  if (status === 401) return new FileIOError(`cannot ${at}: ${endpoint} answered 401 Unauthorized (check the credentials)`);
  if (code === 'ECONNREFUSED') return new FileIOError(`cannot ${at}: connection refused by ${endpoint}${tried} (check s3.endpoint; is the server running?)`, { retryable: true });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new FileIOError(`cannot ${at}: unknown host in ${endpoint} (check s3.endpoint)`, { retryable: code === 'EAI_AGAIN' });
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'EPIPE') {
    return new FileIOError(`cannot ${at}: ${code ?? name} talking to ${endpoint}${tried}`, { retryable: true });
  }
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /SSL routines|wrong version number/i.test(String((err as SdkErrorShape | undefined)?.message))) {
    return new FileIOError(`cannot ${at}: TLS with ${endpoint} failed (is the server plain HTTP? then s3.endpoint must start with http://)`);
  }
  const detail = String((err as SdkErrorShape | undefined)?.message ?? err).split('\n')[0]!;
  const retryable = status === undefined || status >= 500 || status === 429;
  return new FileIOError(`cannot ${at}: ${status ? `HTTP ${status} ` : ''}${name}: ${detail}${tried}`, { retryable });
}
