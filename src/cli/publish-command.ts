// `floe publish` and `floe quarantine`: argument parsing and printing for write-audit-publish
// (the work is in src/wap/). Exit codes a scheduler can act on: 0 published (or nothing to
// publish), 1 refused (conflict with main, quarantined branch, failed audit, already published),
// 2 bad input (no such branch or wap.id, bad flags), 3 could not run (I/O, catalog; retry later).
import { Option, type Command } from 'commander';
import { FloeError, ValidationError } from '../errors.ts';
import { stringifyJsonExact } from '../spec/json.ts';
import type { Catalog } from '../table/catalog.ts';
import { identifierToString, parseTableIdentifier } from '../table/identifier.ts';
import type { PublishResult } from '../wap/publish.ts';
// The publish, audit and quarantine code is imported by the actions that run it, so that
// registering these commands costs `floe --help` nothing.

export interface PublishCommandContext {
  open(): Promise<Catalog>;
  out(line: string): void;
  err(line: string): void;
  setExitCode(code: number): void;
}

/** Refusals exit 1, bad input 2; anything else (I/O, unknown commit state) goes to the caller. */
async function withExitCodes(ctx: PublishCommandContext, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    const { isPublishRefusal } = await import('../wap/publish-errors.ts');
    if (isPublishRefusal(e)) { ctx.err(`floe: ${(e as Error).message}`); ctx.setExitCode(1); return; }
    if (e instanceof FloeError && (e.kind === 'validation' || e.kind === 'not-found')) { ctx.err(`floe: ${e.message}`); ctx.setExitCode(2); return; }
    // 3: could not run (storage, catalog, an unreadable data file) — retry later; never mistaken
    // for a refusal or a failed audit.
    ctx.err(`floe: ${e instanceof Error ? e.message : String(e)}`);
    ctx.setExitCode(3);
  }
}

function describePublish(what: string, table: string, r: PublishResult): string {
  switch (r.kind) {
    case 'nothing': return `nothing to publish: ${what} of ${table} has no snapshot main does not have (main at ${r.mainSnapshotId ?? 'no snapshot'})`;
    case 'fast-forward': return `published ${what} of ${table}: fast-forward main to snapshot ${r.mainSnapshotId} (${r.published.length} snapshot(s): ${r.published.map((p) => p.snapshotId).join(', ')})`;
    case 'reapplied': return `published ${what} of ${table}: re-applied ${r.published.length} snapshot(s) on main (${r.published.map((p) => `${p.sourceSnapshotId} → ${p.snapshotId}`).join(', ')}); main is at ${r.mainSnapshotId}`;
  }
}

const publishJson = (table: string, extra: Record<string, string>, r: PublishResult): string => stringifyJsonExact({
  table, ...extra, kind: r.kind, mainSnapshotId: r.mainSnapshotId,
  published: r.published.map((p) => ({ sourceSnapshotId: p.sourceSnapshotId, snapshotId: p.snapshotId })),
});

export function registerPublishCommands(program: Command, ctx: PublishCommandContext): void {
  program.command('publish <table>')
    .description('publish a write-audit-publish branch to main, atomically: fast-forward when main has not moved since the branch forked, '
      + 'else re-apply each of the branch\'s snapshots on main\'s head in one commit (appends as cherry-picks; MERGE/delete batches re-validated '
      + 'against what main did since the fork, refused on conflict). The branch is then reset to main (or dropped). '
      + 'Exit 0 published, 1 refused (conflict, quarantined, failed audit), 2 bad input, 3 could not run (I/O, catalog).')
    .addOption(new Option('--branch <name>', 'the audit branch to publish').conflicts('wapId'))
    .addOption(new Option('--wap-id <id>', 'publish the staged snapshot whose summary has this wap.id (Spark\'s spark.wap.id) instead of a branch').conflicts('branch'))
    .option('--checks <file>', 'audit the branch first (check file as for floe audit): publish if every check passes, else quarantine it (exit 1)')
    .option('--force', 'publish even a quarantined branch or one whose last audit of its head failed')
    .option('--drop-branch', 'remove the branch after publishing (default: reset it to main\'s new head for the next batch)')
    .option('--json', 'print the result as JSON (ids as numbers)')
    .action(async (name: string, o: { branch?: string; wapId?: string; checks?: string; force?: boolean; dropBranch?: boolean; json?: boolean }) => withExitCodes(ctx, async () => {
      const id = parseTableIdentifier(name);
      const table = identifierToString(id);
      if ((o.branch === undefined) === (o.wapId === undefined)) throw new ValidationError('give --branch NAME or --wap-id ID');
      if (o.wapId !== undefined && (o.force || o.dropBranch || o.checks)) throw new ValidationError('--force, --drop-branch and --checks go with --branch, not --wap-id');
      if (o.checks !== undefined && (o.force || o.dropBranch)) throw new ValidationError('--checks audits before publishing: it does not combine with --force or --drop-branch');
      const catalog = await ctx.open();
      if (o.checks !== undefined) {
        // Write-audit-publish in one command: audit, then publish or quarantine.
        const { auditReportJson, formatAuditReport, loadAuditChecks, validateAuditChecks } = await import('../audit/index.ts');
        const { auditAndPublish } = await import('../wap/audit-and-publish.ts');
        const checks = await loadAuditChecks(o.checks);
        await validateAuditChecks(catalog, id, checks);
        const g = await auditAndPublish(catalog, id, { branch: o.branch!, checks });
        if (o.json) {
          ctx.out(stringifyJsonExact({
            table, branch: o.branch!, outcome: g.outcome, ...(g.quarantineBranch ? { quarantineBranch: g.quarantineBranch } : {}),
            ...(g.report ? { audit: auditReportJson(g.report) } : {}),
            ...(g.publish ? { kind: g.publish.kind, mainSnapshotId: g.publish.mainSnapshotId, published: g.publish.published.map((p) => ({ sourceSnapshotId: p.sourceSnapshotId, snapshotId: p.snapshotId })) } : {}),
          }));
        } else {
          if (g.report) for (const line of formatAuditReport(g.report)) ctx.out(line);
          if (g.outcome === 'nothing') ctx.out(`nothing to publish: branch '${o.branch}' of ${table} has no snapshot main does not have`);
          else if (g.publish) ctx.out(describePublish(`branch '${o.branch}'`, table, g.publish));
          else ctx.out(`audit failed: branch '${o.branch}' of ${table} quarantined as '${g.quarantineBranch}' (${g.failed.map((f) => f.name).join(', ')}); main untouched`);
        }
        if (g.outcome === 'quarantined') ctx.setExitCode(1);
        return;
      }
      const { publishBranch, publishWapId } = await import('../wap/publish.ts');
      const r = o.branch !== undefined
        ? await publishBranch(catalog, id, { branch: o.branch, force: o.force ?? false, dropBranch: o.dropBranch ?? false })
        : await publishWapId(catalog, id, o.wapId!);
      const what = o.branch !== undefined ? `branch '${o.branch}'` : `wap.id '${o.wapId}'`;
      ctx.out(o.json ? publishJson(table, o.branch !== undefined ? { branch: o.branch } : { wapId: o.wapId! }, r) : describePublish(what, table, r));
    }));

  program.command('quarantine <table>')
    .description('move an audit branch out of the way by hand: renamed to quarantine/<branch>/<head snapshot id> with its audit record marked '
      + 'quarantined, in one commit; main is not touched and the rows stay readable on the quarantine branch. Exit 0 done, 2 bad input.')
    .requiredOption('--branch <name>', 'the audit branch to quarantine')
    .option('--reason <text>', 'why (stored in the audit record and logged)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, o: { branch: string; reason?: string; json?: boolean }) => withExitCodes(ctx, async () => {
      const id = parseTableIdentifier(name);
      const { quarantineBranch } = await import('../wap/quarantine.ts');
      const r = await quarantineBranch(await ctx.open(), id, {
        branch: o.branch,
        record: { checkedAtMs: Date.now(), checks: 0, failed: o.reason === undefined ? [] : [{ name: 'manual', type: 'manual', failing: 0, message: o.reason }] },
      });
      ctx.out(o.json
        ? stringifyJsonExact({ table: identifierToString(id), branch: o.branch, quarantineBranch: r.quarantineBranch, snapshotId: r.snapshotId })
        : `quarantined branch '${o.branch}' of ${identifierToString(id)} as '${r.quarantineBranch}' (snapshot ${r.snapshotId}); main untouched`);
    }));
}
