// `floe branch …` and `floe tag …`: create, list, drop and rename the branches and tags of a
// table and set their retention (the work is in transaction/manage-refs.ts; this file parses
// arguments and prints). `floe branch list` also shows how far each branch is from main and its
// write-audit-publish audit status.
import type { Command } from 'commander';
import { ValidationError } from '../errors.ts';
import type { SnapshotRef } from '../spec/table-metadata.ts';
import type { Catalog } from '../table/catalog.ts';
import { identifierToString, parseTableIdentifier } from '../table/identifier.ts';
import type { RefRetention } from '../transaction/manage-refs.ts';
import { parseDuration } from '../duration.ts';

// The actions import the table code they run (manage-refs, branch-listing) when they run, so
// that registering these commands costs `floe --help` nothing.
const manageRefs = () => import('../transaction/manage-refs.ts');

export interface RefCommandsContext {
  open(): Promise<Catalog>;
  out(line: string): void;
}

interface RetentionFlags { minSnapshotsToKeep?: string; maxSnapshotAge?: string; maxRefAge?: string }

const CLEAR = 'none';

/** The CLI's retention flags as settings: `none` clears one (null), absent leaves it (undefined). */
export function retentionFromFlags(o: RetentionFlags): RefRetention {
  const duration = (flag: string, v: string | undefined): number | null | undefined => {
    if (v === undefined) return undefined;
    if (v === CLEAR) return null;
    const ms = parseDuration(v);
    if (ms <= 0) throw new ValidationError(`${flag} must be longer than 0, got '${v}'`);
    return ms;
  };
  let min: number | null | undefined;
  if (o.minSnapshotsToKeep !== undefined) {
    if (o.minSnapshotsToKeep === CLEAR) min = null;
    else {
      min = Number(o.minSnapshotsToKeep);
      if (!/^\d+$/.test(o.minSnapshotsToKeep.trim()) || !(min > 0)) throw new ValidationError(`--min-snapshots-to-keep must be a whole number > 0, got '${o.minSnapshotsToKeep}'`);
    }
  }
  const age = duration('--max-snapshot-age', o.maxSnapshotAge);
  const refAge = duration('--max-ref-age', o.maxRefAge);
  return {
    ...(min !== undefined ? { minSnapshotsToKeep: min } : {}),
    ...(age !== undefined ? { maxSnapshotAgeMs: age } : {}),
    ...(refAge !== undefined ? { maxRefAgeMs: refAge } : {}),
  };
}

/** 86400000 → `1d`, 5400000 → `90m`: the largest unit that divides exactly. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function retentionText(r: SnapshotRef): string {
  const parts = [
    ...(r.minSnapshotsToKeep !== undefined ? [`min-snapshots-to-keep=${r.minSnapshotsToKeep}`] : []),
    ...(r.maxSnapshotAgeMs !== undefined ? [`max-snapshot-age=${formatDuration(r.maxSnapshotAgeMs)}`] : []),
    ...(r.maxRefAgeMs !== undefined ? [`max-ref-age=${formatDuration(r.maxRefAgeMs)}`] : []),
  ];
  return parts.length > 0 ? parts.join(' ') : 'table defaults';
}

function retentionJson(r: SnapshotRef): Record<string, number> {
  return {
    ...(r.minSnapshotsToKeep !== undefined ? { 'min-snapshots-to-keep': r.minSnapshotsToKeep } : {}),
    ...(r.maxSnapshotAgeMs !== undefined ? { 'max-snapshot-age-ms': r.maxSnapshotAgeMs } : {}),
    ...(r.maxRefAgeMs !== undefined ? { 'max-ref-age-ms': r.maxRefAgeMs } : {}),
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

const RETENTION_HELP = [
  '',
  'Retention (Iceberg ref properties, honoured by floe expire-snapshots):',
  '  --min-snapshots-to-keep N   min-snapshots-to-keep: the newest N snapshots of the branch never expire',
  '  --max-snapshot-age 7d       max-snapshot-age-ms: older snapshots of the branch may expire',
  '  --max-ref-age 30d           max-ref-age-ms: the branch itself is removed once its head is this old',
  'Without them the table properties history.expire.* apply. Give "none" to clear a setting.',
].join('\n');

export function registerRefCommands(program: Command, ctx: RefCommandsContext): void {
  const { open, out } = ctx;

  const branch = program.command('branch').description('create, list, drop or rename the branches of a table (write-audit-publish: write to a branch, check it, publish it)');
  branch.command('create <table> <name>')
    .description('create branch NAME at main\'s head, or at --from (a snapshot id, tag or branch)')
    .option('--from <ref>', 'snapshot id, tag or branch the new branch starts at (default: main\'s head)')
    .option('--min-snapshots-to-keep <n>', 'snapshots of this branch expiry always keeps')
    .option('--max-snapshot-age <duration>', 'snapshots of this branch older than this may expire, e.g. 7d')
    .option('--max-ref-age <duration>', 'expiry removes the branch once its head is older than this, e.g. 30d')
    .addHelpText('after', `${RETENTION_HELP}\n\nExamples:\n  floe branch create db.orders audit-2026-12-05\n  floe branch create db.orders backfill --from 4812391239912 --max-ref-age 30d`)
    .action(async (name: string, ref: string, o: RetentionFlags & { from?: string }) => {
      const id = parseTableIdentifier(name);
      const retention = retentionFromFlags(o);
      const { createBranch } = await manageRefs();
      const r = await createBranch(await open(), id, ref, { ...(o.from !== undefined ? { from: o.from } : {}), retention });
      out(`created branch ${ref} of ${identifierToString(id)} at snapshot ${r.ref!.snapshotId} (retention: ${retentionText(r.ref!)})`);
    });

  branch.command('list <table>')
    .description('the branches of a table: head snapshot, commits ahead of / behind main, audit status, retention')
    .option('--json', 'print JSON (one array; snapshot ids as strings)')
    .addHelpText('after', '\nAudit status: pending (never audited, or the branch moved since its last audit), passed,\nfailed or quarantined (with the failed checks), as recorded by floe audit / publish.')
    .action(async (name: string, o: { json?: boolean }) => {
      const { listBranches } = await import('./branch-listing.ts');
      const m = (await (await open()).loadTable(parseTableIdentifier(name))).metadata;
      const list = listBranches(m);
      if (o.json) {
        out(JSON.stringify(list.map((b) => ({
          name: b.name, 'snapshot-id': String(b.snapshotId), ahead: b.ahead, behind: b.behind, audit: b.audit,
          'failed-checks': b.failedChecks, retention: retentionJson(b.ref),
        })), null, 2));
        return;
      }
      if (list.length === 0) { out(`${name} has no branches (it has no snapshot yet)`); return; }
      for (const line of table([
        ['branch', 'head', 'ahead', 'behind', 'audit', 'retention'],
        ...list.map((b) => [
          b.name, String(b.snapshotId), String(b.ahead), String(b.behind),
          b.failedChecks.length > 0 ? `${b.audit} (${b.failedChecks.join(', ')})` : b.audit, retentionText(b.ref),
        ]),
      ])) out(line);
    });

  branch.command('drop <table> <name>')
    .description('remove branch NAME (its snapshots stay until floe expire-snapshots; main cannot be dropped)')
    .action(async (name: string, ref: string) => {
      const id = parseTableIdentifier(name);
      const before = (await (await open()).loadTable(id)).metadata.refs[ref];
      const { dropRef } = await manageRefs();
      await dropRef(await open(), id, ref, { type: 'branch' });
      out(`dropped branch ${ref} of ${identifierToString(id)} (was at snapshot ${before?.snapshotId ?? '?'})`);
    });

  branch.command('rename <table> <name> <new-name>')
    .description('rename branch NAME to NEW-NAME in one commit (its retention and audit record move with it)')
    .action(async (name: string, from: string, to: string) => {
      const id = parseTableIdentifier(name);
      const { renameBranch } = await manageRefs();
      const r = await renameBranch(await open(), id, from, to);
      out(`renamed branch ${from} of ${identifierToString(id)} to ${to} (snapshot ${r.ref!.snapshotId})`);
    });

  for (const verb of ['retention', 'set-retention']) {
    branch.command(`${verb} <table> <name>`)
      .description(verb === 'retention' ? 'set how long expiry keeps the snapshots of branch NAME, and the branch itself' : 'same as branch retention')
      .option('--min-snapshots-to-keep <n>', 'snapshots of this branch expiry always keeps ("none" clears)')
      .option('--max-snapshot-age <duration>', 'snapshots of this branch older than this may expire, e.g. 7d ("none" clears)')
      .option('--max-ref-age <duration>', 'expiry removes the branch once its head is older than this, e.g. 30d ("none" clears)')
      .addHelpText('after', RETENTION_HELP)
      .action(async (name: string, ref: string, o: RetentionFlags) => {
        const id = parseTableIdentifier(name);
        const { setRefRetention } = await manageRefs();
        const r = await setRefRetention(await open(), id, ref, retentionFromFlags(o), { type: 'branch' });
        out(`retention of branch ${ref} of ${identifierToString(id)}: ${retentionText(r.ref!)}`);
      });
  }

  const tag = program.command('tag').description('create, list or drop the tags of a table (a tag names one snapshot, e.g. a release, for time travel)');
  tag.command('create <table> <name>')
    .description('tag main\'s head (or --snapshot) as NAME')
    .option('--snapshot <id>', 'snapshot id (or a branch or tag name) to tag (default: main\'s head)')
    .option('--max-ref-age <duration>', 'expiry removes the tag once its snapshot is older than this, e.g. 365d')
    .action(async (name: string, ref: string, o: { snapshot?: string; maxRefAge?: string }) => {
      const id = parseTableIdentifier(name);
      const { maxRefAgeMs } = retentionFromFlags({ ...(o.maxRefAge !== undefined ? { maxRefAge: o.maxRefAge } : {}) });
      if (maxRefAgeMs === null) throw new ValidationError('--max-ref-age none makes no sense on a new tag: leave it out');
      const { createTag } = await manageRefs();
      const r = await createTag(await open(), id, ref, { ...(o.snapshot !== undefined ? { snapshotId: o.snapshot } : {}), ...(maxRefAgeMs !== undefined ? { maxRefAgeMs } : {}) });
      out(`created tag ${ref} of ${identifierToString(id)} at snapshot ${r.ref!.snapshotId}${r.ref!.maxRefAgeMs !== undefined ? ` (max-ref-age=${formatDuration(r.ref!.maxRefAgeMs)})` : ''}`);
    });

  tag.command('list <table>')
    .description('the tags of a table: snapshot, when it was committed, retention')
    .option('--json', 'print JSON (one array; snapshot ids as strings)')
    .action(async (name: string, o: { json?: boolean }) => {
      const { snapshotById } = await import('../spec/table-metadata.ts');
      const m = (await (await open()).loadTable(parseTableIdentifier(name))).metadata;
      const tags = Object.entries(m.refs).filter(([, r]) => r.type === 'tag').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const at = (r: SnapshotRef): string => { const s = snapshotById(m, r.snapshotId); return s ? new Date(s.timestampMs).toISOString() : '?'; };
      if (o.json) {
        out(JSON.stringify(tags.map(([n, r]) => ({ name: n, 'snapshot-id': String(r.snapshotId), 'committed-at': at(r), retention: retentionJson(r) })), null, 2));
        return;
      }
      if (tags.length === 0) { out(`${name} has no tags`); return; }
      for (const line of table([['tag', 'snapshot', 'committed-at', 'retention'], ...tags.map(([n, r]) => [n, String(r.snapshotId), at(r), retentionText(r)])])) out(line);
    });

  tag.command('drop <table> <name>').description('remove tag NAME (its snapshot stays until floe expire-snapshots)')
    .action(async (name: string, ref: string) => {
      const id = parseTableIdentifier(name);
      const { dropRef } = await manageRefs();
      await dropRef(await open(), id, ref, { type: 'tag' });
      out(`dropped tag ${ref} of ${identifierToString(id)}`);
    });

  tag.command('retention <table> <name>').description('set or clear (--max-ref-age none) how long expiry keeps tag NAME')
    .requiredOption('--max-ref-age <duration>', 'expiry removes the tag once its snapshot is older than this, e.g. 365d ("none" clears)')
    .action(async (name: string, ref: string, o: { maxRefAge: string }) => {
      const id = parseTableIdentifier(name);
      const { setRefRetention } = await manageRefs();
      const r = await setRefRetention(await open(), id, ref, retentionFromFlags({ maxRefAge: o.maxRefAge }), { type: 'tag' });
      out(`retention of tag ${ref} of ${identifierToString(id)}: ${retentionText(r.ref!)}`);
    });
}
