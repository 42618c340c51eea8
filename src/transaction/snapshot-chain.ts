// Several snapshots committed as ONE catalog commit (Java's Transaction with several
// operations): each action is prepared on the metadata the previous ones produce, and the
// commit carries every `add-snapshot`, only the last move of each ref, and only the first
// action's requirements (the later ones are about states that exist only inside this commit).
// Readers see all of the snapshots or none of them. Used by publish to re-apply a branch's
// snapshots on main and reset the branch in the same commit.
import { deleteAll, type FileIO } from '../io/file-io.ts';
import { applyUpdates, type TableRequirement, type TableUpdate } from '../spec/table-updates.ts';
import type { LoadedTable } from '../table/catalog.ts';
import type { PreparedUpdate } from './commit-with-retry.ts';
import type { PreparedSnapshot, SnapshotAction } from './snapshot-action.ts';

export interface PreparedChain extends PreparedUpdate {
  /** One per action that had something to commit, in order. */
  readonly snapshots: readonly PreparedSnapshot[];
  /** The metadata as it will be once the commit lands (for follow-up updates). */
  readonly result: LoadedTable;
}

/**
 * Prepares `actions` one on top of the other, starting at `base`; `extra` updates (e.g. a ref
 * reset) and `requirements` are added to the single commit. `undefined` if no action had
 * anything to commit and there are no extra updates.
 */
export async function prepareChain(
  io: FileIO, base: LoadedTable, actions: readonly SnapshotAction[], attempt: number,
  o: { extraUpdates?: (result: LoadedTable) => readonly TableUpdate[]; requirements?: readonly TableRequirement[] } = {},
): Promise<PreparedChain | undefined> {
  const snapshots: PreparedSnapshot[] = [];
  const attemptFiles: string[] = [];
  let current = base;
  try {
    for (const action of actions) {
      const prepared = await action.prepare(current, attempt);
      if (!prepared) continue;
      snapshots.push(prepared);
      attemptFiles.push(...prepared.attemptFiles);
      // The next action reads this one's manifest list as its parent's: written first.
      await prepared.written;
      current = { ...current, metadata: applyUpdates(current.metadata, null, prepared.updates) };
    }
  } catch (err) {
    // The earlier actions' attempt files are referenced by nothing yet.
    await deleteAll(io, attemptFiles);
    throw err;
  }
  const extra = o.extraUpdates?.(current) ?? [];
  if (snapshots.length === 0 && extra.length === 0) return undefined;
  const all = [...snapshots.flatMap((p) => p.updates), ...extra];
  // Only the last move of each ref: one snapshot-log entry per ref move the readers can see.
  const lastRefMove = new Map<string, number>();
  all.forEach((u, i) => { if (u.action === 'set-snapshot-ref') lastRefMove.set(u.refName, i); });
  const updates = all.filter((u, i) => u.action !== 'set-snapshot-ref' || lastRefMove.get(u.refName) === i);
  const requirements = [...(snapshots[0]?.requirements ?? []), ...(o.requirements ?? [])];
  return { updates, requirements: dedupeRequirements(requirements), attemptFiles, snapshots, result: current };
}

function dedupeRequirements(rs: readonly TableRequirement[]): TableRequirement[] {
  const seen = new Set<string>();
  const out: TableRequirement[] = [];
  for (const r of rs) {
    const key = JSON.stringify(r, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v);
    if (!seen.has(key)) { seen.add(key); out.push(r); }
  }
  return out;
}
