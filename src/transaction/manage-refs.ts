// Branches and tags of a table (Java's ManageSnapshots): create, drop, rename, and set the
// retention Iceberg keeps per ref (`min-snapshots-to-keep`, `max-snapshot-age-ms`,
// `max-ref-age-ms`, honoured by snapshot expiry). Every change is one catalog commit through
// commitUpdateWithRetry, guarded by `assert-ref-snapshot-id` on each ref it reads, so a ref
// moved by another writer meanwhile makes the change re-run on the new head. Moving a branch
// to another snapshot (fast-forward, replace) belongs to publish, not here.
import { NotFoundError, ValidationError } from '../errors.ts';
import { MAIN_BRANCH, snapshotById, type SnapshotRef, type TableMetadata } from '../spec/table-metadata.ts';
import { WAP_AUDIT_PROPERTY_PREFIX } from '../spec/table-properties.ts';
import type { TableRequirement, TableUpdate } from '../spec/table-updates.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../table/identifier.ts';
import { commitUpdateWithRetry, type CommitOptions, type PreparedUpdate } from './commit-with-retry.ts';

/** `branch` or `tag`. */
export type RefType = SnapshotRef['type'];

/** Per-ref retention. In updates, `null` removes a setting (the table defaults apply again). */
export interface RefRetention {
  /** Branches only: snapshots of the branch expiry always keeps (Iceberg `min-snapshots-to-keep`). */
  readonly minSnapshotsToKeep?: number | null;
  /** Branches only: older snapshots of the branch may expire (`max-snapshot-age-ms`). */
  readonly maxSnapshotAgeMs?: number | null;
  /** Branches and tags: the ref itself is removed by expiry once its head is this old (`max-ref-age-ms`). */
  readonly maxRefAgeMs?: number | null;
}

/** A branch or tag change as committed. */
export interface RefChange {
  /** The table after the change. */
  readonly table: LoadedTable;
  /** The ref's name. */
  readonly name: string;
  /** The ref after the change (undefined after a drop). */
  readonly ref: SnapshotRef | undefined;
}

/**
 * Table properties that belong to one branch and follow it through a rename (and go when it is
 * dropped): the WAP audit record `floe.wap.audit.<branch>` of src/wap/branch-status.ts. Spelled
 * here because transaction/ must not import wap/; a unit test pins it to branch-status.ts.
 */
export const BRANCH_PROPERTY_PREFIXES: readonly string[] = [WAP_AUDIT_PROPERTY_PREFIX];

const branchPropertyKeys = (branch: string): string[] => BRANCH_PROPERTY_PREFIXES.map((p) => `${p}${branch}`);

// ---------- validation ----------

/** Refuses names no reader can address: empty, surrounding blanks, control characters. */
export function validateRefName(name: string, what: 'branch' | 'tag' | 'ref' = 'ref'): void {
  if (name.length === 0) throw new ValidationError(`${what} name must not be empty`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this refuses
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new ValidationError(`${what} name ${JSON.stringify(name)} contains a control character`);
  if (name.trim() !== name) throw new ValidationError(`${what} name ${JSON.stringify(name)} starts or ends with a blank`);
}

/**
 * Where floe moves quarantined write-audit-publish branches (`quarantine/<branch>/<head id>`,
 * src/wap/branch-status.ts QUARANTINE_PREFIX; spelled here because transaction/ must not import
 * wap/; a unit test pins them together). Only the quarantine step names a branch there: a
 * hand-made one would pass for a quarantined batch — refused by publish, and its source offsets
 * counted as consumed by the ingest of the branch it seems to come from.
 */
export const RESERVED_REF_PREFIX = 'quarantine/';

/** validateRefName plus: a name floe gives to a new ref (create, rename target) is not under quarantine/. */
export function validateNewRefName(name: string, what: 'branch' | 'tag'): void {
  validateRefName(name, what);
  if (name.startsWith(RESERVED_REF_PREFIX)) {
    throw new ValidationError(`${what} name '${name}' is reserved: names under ${RESERVED_REF_PREFIX} are given only to quarantined write-audit-publish branches (floe quarantine); choose another name`);
  }
}

function validateRetention(r: RefRetention, type: RefType, name: string): void {
  if (type === 'tag' && (r.minSnapshotsToKeep != null || r.maxSnapshotAgeMs != null)) {
    throw new ValidationError(`'${name}' is a tag: min-snapshots-to-keep and max-snapshot-age-ms apply to branches only (a tag keeps exactly its snapshot); use max-ref-age-ms`);
  }
  if (r.minSnapshotsToKeep != null && !(Number.isInteger(r.minSnapshotsToKeep) && r.minSnapshotsToKeep > 0)) {
    throw new ValidationError(`min-snapshots-to-keep must be a whole number > 0, got ${r.minSnapshotsToKeep}`);
  }
  for (const [key, v] of [['max-snapshot-age-ms', r.maxSnapshotAgeMs], ['max-ref-age-ms', r.maxRefAgeMs]] as const) {
    if (v != null && !(Number.isSafeInteger(v) && v > 0)) throw new ValidationError(`${key} must be a whole number of milliseconds > 0, got ${v}`);
  }
}

/** `ref` with `r` applied (undefined keeps a setting, null removes it). */
function withRetention(ref: SnapshotRef, r: RefRetention): SnapshotRef {
  const pick = <K extends keyof RefRetention>(k: K): number | undefined => (r[k] === undefined ? ref[k] : r[k] ?? undefined);
  const min = pick('minSnapshotsToKeep');
  const age = pick('maxSnapshotAgeMs');
  const refAge = pick('maxRefAgeMs');
  return {
    snapshotId: ref.snapshotId, type: ref.type,
    ...(min !== undefined ? { minSnapshotsToKeep: min } : {}),
    ...(age !== undefined ? { maxSnapshotAgeMs: age } : {}),
    ...(refAge !== undefined ? { maxRefAgeMs: refAge } : {}),
  };
}

function describeRefs(m: TableMetadata): string {
  const names = Object.keys(m.refs).sort();
  return names.length > 0 ? names.map((n) => `${n} (${m.refs[n]!.type})`).join(', ') : 'no refs';
}

/** The ref `name` (of kind `type` if given), or a one-line error naming the table and its refs. */
function existingRef(t: LoadedTable, name: string, type: RefType | undefined): SnapshotRef {
  const ref = t.metadata.refs[name];
  const table = identifierToString(t.identifier);
  if (!ref) throw new NotFoundError(`${table} has no ${type ?? 'branch or tag'} '${name}' (it has: ${describeRefs(t.metadata)})`);
  if (type !== undefined && ref.type !== type) {
    throw new ValidationError(`'${name}' of ${table} is a ${ref.type}, not a ${type}${ref.type === 'tag' ? ' (use the tag commands)' : ' (use the branch commands)'}`);
  }
  return ref;
}

function refuseExisting(t: LoadedTable, name: string): void {
  const ref = t.metadata.refs[name];
  if (ref) throw new ValidationError(`${identifierToString(t.identifier)} already has a ${ref.type} '${name}' (at snapshot ${ref.snapshotId})`);
  // `--from N` / `--snapshot N` resolve a ref name before a snapshot id: a new ref named like
  // one of the table's snapshots would shadow it (a tag named 2026 is fine).
  if (/^-?\d+$/.test(name) && t.metadata.snapshots.some((s) => s.snapshotId.toString() === name)) {
    throw new ValidationError(`${identifierToString(t.identifier)} has a snapshot ${name}: a ref of that name would shadow it in --from/--snapshot; choose another name`);
  }
}

/**
 * The snapshot `from` names on `m`: a branch or tag name, else a snapshot id; undefined: main's
 * head. A ref of that name wins over a snapshot id with the same digits.
 */
export function resolveSnapshotRef(t: LoadedTable, from: string | bigint | undefined): { snapshotId: bigint; ref?: string } {
  const m = t.metadata;
  const table = identifierToString(t.identifier);
  if (from === undefined) {
    const main = m.refs[MAIN_BRANCH];
    if (!main) throw new ValidationError(`${table} has no snapshot yet: nothing to branch or tag from (write to it first, or give a snapshot)`);
    return { snapshotId: main.snapshotId, ref: MAIN_BRANCH };
  }
  if (typeof from === 'string' && m.refs[from]) return { snapshotId: m.refs[from].snapshotId, ref: from };
  if (typeof from === 'bigint' || /^-?\d+$/.test(from)) {
    const id = BigInt(from);
    if (!snapshotById(m, id)) throw new NotFoundError(`${table} has no snapshot ${id}`);
    return { snapshotId: id };
  }
  throw new NotFoundError(`${table} has no branch, tag or snapshot '${from}' (it has: ${describeRefs(m)})`);
}

// ---------- one commit per change ----------

const tableUuid = (t: LoadedTable): TableRequirement => ({ type: 'assert-table-uuid', uuid: t.metadata.tableUuid });
const refAt = (ref: string, snapshotId: bigint | null): TableRequirement => ({ type: 'assert-ref-snapshot-id', ref, snapshotId });
const setRef = (refName: string, ref: SnapshotRef): TableUpdate => ({ action: 'set-snapshot-ref', refName, ...ref });

/**
 * Commits the ref change `build` computes on each base. `isDone` recognises the change in a
 * reloaded table, consulted only once an attempt was sent (a commit whose answer was lost is
 * then not redone; a refusal before sending stays a refusal).
 */
async function commitRefChange(
  catalog: Catalog, id: TableIdentifier, description: string,
  build: (t: LoadedTable) => { updates: TableUpdate[]; requirements: TableRequirement[] },
  isDone: (m: TableMetadata) => boolean, resultName: string, opts: CommitOptions,
): Promise<RefChange> {
  let sent = false;
  const r = await commitUpdateWithRetry(catalog, id, {
    description,
    prepare: async (t): Promise<PreparedUpdate> => {
      const { updates, requirements } = build(t);
      sent = true;
      return { updates, requirements: [tableUuid(t), ...requirements], attemptFiles: [] };
    },
    landed: (t) => sent && isDone(t.metadata),
  }, opts);
  return { table: r.table, name: resultName, ref: r.table.metadata.refs[resultName] };
}

/** Options of {@link createBranch}. */
export interface CreateBranchOptions extends CommitOptions {
  /** Snapshot id, tag or branch to start from; default: main's head. */
  readonly from?: string | bigint;
  /** The branch's retention (`min-snapshots-to-keep`, `max-snapshot-age-ms`, `max-ref-age-ms`). */
  readonly retention?: RefRetention;
}

/**
 * Creates branch `name` at `from` (default: main's head); refuses a name already in use.
 * Write to it with the `branch` option of appendRecords / mergeRecords / deleteWhere, then
 * publish it to main with {@link publishBranch}.
 *
 * @throws {@link AlreadyExistsError} when the name is taken; {@link ValidationError} for a bad
 * name (`quarantine/` is reserved) or retention; {@link NotFoundError} for an unknown `from`.
 * @example
 * ```ts
 * await createBranch(catalog, id, 'nightly');
 * await appendRecords(catalog, id, rows, { branch: 'nightly' });
 * await publishBranch(catalog, id, { branch: 'nightly' });
 * ```
 */
export async function createBranch(catalog: Catalog, id: TableIdentifier, name: string, opts: CreateBranchOptions = {}): Promise<RefChange> {
  validateNewRefName(name, 'branch');
  validateRetention(opts.retention ?? {}, 'branch', name);
  let target: bigint | undefined;
  return commitRefChange(catalog, id, `creation of branch '${name}'`, (t) => {
    refuseExisting(t, name);
    const src = resolveSnapshotRef(t, opts.from);
    target = src.snapshotId;
    return {
      updates: [setRef(name, withRetention({ snapshotId: src.snapshotId, type: 'branch' }, opts.retention ?? {}))],
      // The source ref must not move under us: a moved branch re-resolves on the next attempt.
      requirements: [refAt(name, null), ...(src.ref !== undefined ? [refAt(src.ref, src.snapshotId)] : [])],
    };
  }, (m) => m.refs[name]?.type === 'branch' && m.refs[name]?.snapshotId === target, name, opts);
}

/** Options of {@link createTag}. */
export interface CreateTagOptions extends CommitOptions {
  /** Snapshot id (or a branch/tag name) to tag; default: main's head. */
  readonly snapshotId?: bigint | string;
  /** `max-ref-age-ms`: expiry removes the tag once it is this old (default: kept forever). */
  readonly maxRefAgeMs?: number;
}

/** Creates tag `name` on a snapshot (default: main's head), e.g. to pin a release; refuses a
 * name already in use (AlreadyExistsError). Tagged snapshots are never expired while tagged. */
export async function createTag(catalog: Catalog, id: TableIdentifier, name: string, opts: CreateTagOptions = {}): Promise<RefChange> {
  validateNewRefName(name, 'tag');
  const retention: RefRetention = opts.maxRefAgeMs !== undefined ? { maxRefAgeMs: opts.maxRefAgeMs } : {};
  validateRetention(retention, 'tag', name);
  let target: bigint | undefined;
  return commitRefChange(catalog, id, `creation of tag '${name}'`, (t) => {
    refuseExisting(t, name);
    const src = resolveSnapshotRef(t, opts.snapshotId);
    target = src.snapshotId;
    return {
      updates: [setRef(name, withRetention({ snapshotId: src.snapshotId, type: 'tag' }, retention))],
      requirements: [refAt(name, null), ...(src.ref !== undefined ? [refAt(src.ref, src.snapshotId)] : [])],
    };
  }, (m) => m.refs[name]?.type === 'tag' && m.refs[name]?.snapshotId === target, name, opts);
}

/** Options of {@link dropRef} and {@link setRefRetention}. */
export interface DropRefOptions extends CommitOptions {
  /** The kind the caller means: a tag given where a branch is meant (or the reverse) is refused. */
  readonly type?: RefType;
}

/**
 * Removes a branch or tag (its snapshots stay until expiry). `main` cannot be dropped. A dropped
 * branch's own properties (its audit record) go in the same commit: they described a head that
 * no longer has a name.
 */
export async function dropRef(catalog: Catalog, id: TableIdentifier, name: string, opts: DropRefOptions = {}): Promise<RefChange> {
  validateRefName(name, opts.type ?? 'ref');
  if (name === MAIN_BRANCH) throw new ValidationError(`branch '${MAIN_BRANCH}' of ${identifierToString(id)} cannot be dropped`);
  return commitRefChange(catalog, id, `removal of ref '${name}'`, (t) => {
    const ref = existingRef(t, name, opts.type);
    const owned = ref.type === 'branch' ? branchPropertyKeys(name).filter((k) => t.metadata.properties[k] !== undefined) : [];
    return {
      updates: [
        { action: 'remove-snapshot-ref', refName: name },
        ...(owned.length > 0 ? [{ action: 'remove-properties' as const, removals: owned }] : []),
      ],
      requirements: [refAt(name, ref.snapshotId)],
    };
  }, (m) => m.refs[name] === undefined, name, opts);
}

/**
 * Renames branch `from` to `to` in one commit (remove + set, retention kept), moving its audit
 * record `floe.wap.audit.<from>` to `floe.wap.audit.<to>`. Refuses `main` (either side), tags,
 * and a target name already in use.
 */
export async function renameBranch(catalog: Catalog, id: TableIdentifier, from: string, to: string, opts: CommitOptions = {}): Promise<RefChange> {
  validateRefName(from, 'branch');
  validateNewRefName(to, 'branch');
  const table = identifierToString(id);
  if (from === MAIN_BRANCH) throw new ValidationError(`branch '${MAIN_BRANCH}' of ${table} cannot be renamed`);
  if (to === MAIN_BRANCH) throw new ValidationError(`cannot rename branch '${from}' of ${table} to '${MAIN_BRANCH}' (publish it instead)`);
  if (from === to) throw new ValidationError(`branch '${from}' of ${table} already has that name`);
  let head: bigint | undefined;
  return commitRefChange(catalog, id, `rename of branch '${from}' to '${to}'`, (t) => {
    const ref = existingRef(t, from, 'branch');
    refuseExisting(t, to);
    head = ref.snapshotId;
    const props = t.metadata.properties;
    const set: Record<string, string> = {};
    const removals: string[] = [];
    for (const p of BRANCH_PROPERTY_PREFIXES) {
      const value = props[`${p}${from}`];
      if (value !== undefined) { set[`${p}${to}`] = value; removals.push(`${p}${from}`); }
      // A leftover record under the new name described another branch: it must not apply to this one.
      else if (props[`${p}${to}`] !== undefined) removals.push(`${p}${to}`);
    }
    const updates: TableUpdate[] = [{ action: 'remove-snapshot-ref', refName: from }, setRef(to, ref)];
    if (removals.length > 0) updates.push({ action: 'remove-properties', removals });
    if (Object.keys(set).length > 0) updates.push({ action: 'set-properties', updates: set });
    return { updates, requirements: [refAt(from, ref.snapshotId), refAt(to, null)] };
  }, (m) => m.refs[from] === undefined && m.refs[to]?.snapshotId === head, to, opts);
}

/** Sets (number) or clears (null) retention settings of a branch or tag; others are kept. */
export async function setRefRetention(catalog: Catalog, id: TableIdentifier, name: string, retention: RefRetention, opts: DropRefOptions = {}): Promise<RefChange> {
  validateRefName(name, opts.type ?? 'ref');
  if (retention.minSnapshotsToKeep === undefined && retention.maxSnapshotAgeMs === undefined && retention.maxRefAgeMs === undefined) {
    throw new ValidationError(`give at least one retention setting for '${name}' (min-snapshots-to-keep, max-snapshot-age-ms, max-ref-age-ms)`);
  }
  let wanted: SnapshotRef | undefined;
  return commitRefChange(catalog, id, `retention of ref '${name}'`, (t) => {
    const ref = existingRef(t, name, opts.type);
    validateRetention(retention, ref.type, name);
    wanted = withRetention(ref, retention);
    return { updates: [setRef(name, wanted)], requirements: [refAt(name, ref.snapshotId)] };
  }, (m) => {
    const r = m.refs[name];
    return r !== undefined && wanted !== undefined && r.snapshotId === wanted.snapshotId && r.minSnapshotsToKeep === wanted.minSnapshotsToKeep
      && r.maxSnapshotAgeMs === wanted.maxSnapshotAgeMs && r.maxRefAgeMs === wanted.maxRefAgeMs;
  }, name, opts);
}
