// Why a publish was refused (CLI exit code 1): the branch is quarantined, its audit failed, or
// re-applying it on main would not give the same rows (CherryPickConflictError). Bad input —
// a branch that does not exist, a bad wap id — is a ValidationError / NotFoundError (exit 2).
import { ValidationError } from '../errors.ts';
import { CherryPickConflictError } from '../transaction/cherry-pick.ts';

/** Why a publish was refused. */
export type RefusalReason = 'quarantined' | 'audit-failed' | 'already-published' | 'conflict';

/** A publish refused: the branch is quarantined, its audit failed, it was already published,
 * or it moved since it was audited (`reason`). Not retryable as is: audit again, or `force`. */
export class PublishRefusedError extends ValidationError {
  /** @param reason - why the publish was refused. */
  constructor(readonly reason: RefusalReason, message: string) {
    super(message);
    this.name = 'PublishRefusedError';
  }
}

/** Whether `err` is a refusal (exit 1) rather than bad input (exit 2). */
export function isPublishRefusal(err: unknown): boolean {
  return err instanceof PublishRefusedError || err instanceof CherryPickConflictError;
}
