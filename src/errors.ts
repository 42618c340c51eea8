// floe's one error hierarchy. Every error has a literal `kind` and says whether retrying the
// same operation can succeed. "Conflict" (retry, our files may be deleted) is kept apart from
// "commit state unknown" (never delete files: the commit may have landed).

/** What went wrong, as a literal every {@link FloeError} carries in `kind` (switch on it rather than on class names). */
export type FloeErrorKind =
  | 'validation'          // bad input: a record, a config, an identifier, a schema
  | 'invalid-metadata'    // a metadata/manifest file that does not match the spec
  | 'not-found'
  | 'already-exists'
  | 'namespace-not-empty'
  | 'commit-conflict'     // a requirement failed / the pointer moved: reload and retry
  | 'commit-state-unknown'// the outcome of a pointer swap is unknown: never delete files
  | 'io'
  | 'unsupported'
  | 'internal';           // a floe bug: an invariant of floe's own code broke

/**
 * The base of every error floe throws on purpose. `kind` says what went wrong; `retryable` says
 * whether running the same operation again can succeed (true for {@link CommitConflictError}).
 * The original error, if any, is in `cause`.
 *
 * @example
 * ```ts
 * try { await appendRecords(catalog, id, rows); }
 * catch (err) {
 *   if (err instanceof FloeError && err.retryable) { ... } // reload and try again
 *   else throw err;
 * }
 * ```
 */
export class FloeError extends Error {
  /** What went wrong (`validation`, `not-found`, `commit-conflict`, …). */
  readonly kind: FloeErrorKind;
  /** Whether the same operation, run again, can succeed. */
  readonly retryable: boolean;
  constructor(kind: FloeErrorKind, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FloeError';
    this.kind = kind;
    this.retryable = opts.retryable ?? false;
  }
}

/** Bad input: a record, a config, an identifier, a schema, a predicate. Fix the input; retrying will not help. */
export class ValidationError extends FloeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('validation', message, opts);
    this.name = 'ValidationError';
  }
}

/** A record that does not fit the table schema: names the record, the field and the value. */
export class RecordValidationError extends ValidationError {
  /** 0-based index of the record in the call's input (the whole stream for appendRecordStream). */
  readonly recordIndex: number;
  /** Dotted path of the field (`location.lat`). */
  readonly fieldPath: string;
  constructor(recordIndex: number, fieldPath: string, detail: string) {
    super(`record ${recordIndex}: field '${fieldPath}': ${detail}`);
    this.name = 'RecordValidationError';
    this.recordIndex = recordIndex;
    this.fieldPath = fieldPath;
  }
}

/** A metadata, manifest or manifest-list file that does not match the Iceberg spec (or is corrupt). */
export class InvalidMetadataError extends FloeError {
  /** The file's location. */
  readonly file: string;
  constructor(file: string, detail: string, opts: { cause?: unknown } = {}) {
    super('invalid-metadata', `invalid metadata file ${file}: ${detail}`, opts);
    this.name = 'InvalidMetadataError';
    this.file = file;
  }
}

/** A table, namespace, branch, snapshot or file that does not exist. */
export class NotFoundError extends FloeError {
  constructor(message: string) { super('not-found', message); this.name = 'NotFoundError'; }
}

/** A table, namespace, branch, tag or file that already exists (create never replaces). */
export class AlreadyExistsError extends FloeError {
  constructor(message: string) { super('already-exists', message); this.name = 'AlreadyExistsError'; }
}

/** Dropping a namespace that still holds tables. */
export class NamespaceNotEmptyError extends FloeError {
  constructor(message: string) { super('namespace-not-empty', message); this.name = 'NamespaceNotEmptyError'; }
}

/** The table changed under us (CAS lost or a requirement failed): safe to reload and retry
 * (`retryable` is true). floe already retries commits `commit.retry.num-retries` times before
 * letting this escape; files of the failed attempt have been removed. */
export class CommitConflictError extends FloeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('commit-conflict', message, { retryable: true, ...opts });
    this.name = 'CommitConflictError';
  }
}

/** We do not know whether the pointer swap happened (e.g. the catalog connection dropped
 * mid-commit). The written files are kept, as the table may reference them: reload the table
 * to see whether the commit landed; never retry blindly. */
export class CommitStateUnknownError extends FloeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('commit-state-unknown', message, { retryable: false, ...opts });
    this.name = 'CommitStateUnknownError';
  }
}

/** Reading or writing a file failed (local disk or S3); `retryable` when the store said so (throttling, timeouts). */
export class FileIOError extends FloeError {
  constructor(message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super('io', message, opts);
    this.name = 'FileIOError';
  }
}

/** A feature of the table or the request that floe does not support (e.g. a format version or a type). */
export class UnsupportedError extends FloeError {
  constructor(message: string) { super('unsupported', message); this.name = 'UnsupportedError'; }
}

/** A broken invariant of floe's own code (an unreachable branch reached): a bug to report,
 * never the user's input. */
export class InternalError extends FloeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('internal', `internal error (a floe bug): ${message}`, opts);
    this.name = 'InternalError';
  }
}

/** A value whose JavaScript form does not match its Iceberg type (a number where a long's
 * bigint belongs, a string for binary); readers of old partition values catch it to mean
 * "unknown" rather than fail a scan. */
export class ValueTypeError extends ValidationError {
  constructor(message: string) {
    super(message);
    this.name = 'ValueTypeError';
  }
}

/** Bytes that do not decode (Avro container, manifest record). Decoders see bytes only: the
 * caller that knows the file wraps it in an InvalidMetadataError naming that file. */
export class DecodingError extends FloeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('invalid-metadata', message, opts);
    this.name = 'DecodingError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
