// floe's one error hierarchy. Every error has a literal `kind` and says whether retrying the
// same operation can succeed. "Conflict" (retry, our files may be deleted) is kept apart from
// "commit state unknown" (never delete files: the commit may have landed).

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

export class FloeError extends Error {
  readonly kind: FloeErrorKind;
  readonly retryable: boolean;
  constructor(kind: FloeErrorKind, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FloeError';
    this.kind = kind;
    this.retryable = opts.retryable ?? false;
  }
}

export class ValidationError extends FloeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('validation', message, opts);
    this.name = 'ValidationError';
  }
}

/** A record that does not fit the table schema: names the record, the field and the value. */
export class RecordValidationError extends ValidationError {
  readonly recordIndex: number;
  readonly fieldPath: string;
  constructor(recordIndex: number, fieldPath: string, detail: string) {
    super(`record ${recordIndex}: field '${fieldPath}': ${detail}`);
    this.name = 'RecordValidationError';
    this.recordIndex = recordIndex;
    this.fieldPath = fieldPath;
  }
}

export class InvalidMetadataError extends FloeError {
  readonly file: string;
  constructor(file: string, detail: string, opts: { cause?: unknown } = {}) {
    super('invalid-metadata', `invalid metadata file ${file}: ${detail}`, opts);
    this.name = 'InvalidMetadataError';
    this.file = file;
  }
}

export class NotFoundError extends FloeError {
  constructor(message: string) { super('not-found', message); this.name = 'NotFoundError'; }
}

export class AlreadyExistsError extends FloeError {
  constructor(message: string) { super('already-exists', message); this.name = 'AlreadyExistsError'; }
}

export class NamespaceNotEmptyError extends FloeError {
  constructor(message: string) { super('namespace-not-empty', message); this.name = 'NamespaceNotEmptyError'; }
}

/** The table changed under us (CAS lost or a requirement failed): safe to reload and retry. */
export class CommitConflictError extends FloeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('commit-conflict', message, { retryable: true, ...opts });
    this.name = 'CommitConflictError';
  }
}

/** We do not know whether the pointer swap happened. Files must be kept. */
export class CommitStateUnknownError extends FloeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('commit-state-unknown', message, { retryable: false, ...opts });
    this.name = 'CommitStateUnknownError';
  }
}

export class FileIOError extends FloeError {
  constructor(message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super('io', message, opts);
    this.name = 'FileIOError';
  }
}

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
