// Snapshot ids: random positive 63-bit numbers (Java folds UUID bits the same way). Never
// derived from time, so two writers in the same millisecond cannot collide.
import { randomBytes } from 'node:crypto';

export function newSnapshotId(existing?: ReadonlySet<bigint>): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
    if (id !== 0n && !existing?.has(id)) return id;
  }
}
