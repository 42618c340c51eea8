// `floe audit NS.T --branch B --checks FILE`: runs declarative checks against what a branch
// adds over main (or its whole state) and prints a line per check; exit 0 passed (warnings
// allowed), 1 a check failed, 2 bad input (check file, branch, table, SQL) with nothing changed,
// 3 could not run (unreadable data, storage or catalog failing).
import type { Command } from 'commander';
import { FloeError, ValidationError, errorMessage } from '../errors.ts';
import type { Catalog } from '../table/catalog.ts';
import { parseTableIdentifier } from '../table/identifier.ts';

/** What a command module needs from the `floe` program (see runCli in main.ts). */
export interface CliCommandContext {
  open(): Promise<Catalog>;
  out(line: string): void;
  err(line: string): void;
  /** The process exit code when the command returns normally (a verdict such as "audit failed"). */
  setExitCode(code: number): void;
}

/** 3: the audit could not run (a data file unreadable, storage or catalog failing): retry later —
 * kept apart from 1 so a scheduler never takes a broken machine for bad data. */
export const AUDIT_EXIT = { passed: 0, failed: 1, badInput: 2, couldNotRun: 3 } as const;

const HELP = `
The check file (YAML or JSON) lists checks with dbt's names:

  checks:
    - type: not_null                 # no nulls in these columns
      columns: [id, ts]
    - type: unique                   # no duplicates; default: the table's key
    - type: accepted_values
      column: region
      values: [eu, us, ap]
    - type: range                    # min and/or max, inclusive unless inclusive: false
      column: amount
      min: 0
      max: "10000.00"
    - type: row_count
      min: 1
      max: 200000
    - type: freshness                # newest event time at most max_age old
      column: ts
      max_age: 1h
    - type: relationships            # every non-null value exists in the other table's main
      column: customer_id
      to: { table: db.customers, column: id }
    - type: sql                      # the rows it returns are the offending rows
      name: no_refund_without_order
      sql: SELECT * FROM rows WHERE kind = 'refund' AND order_id IS NULL
      severity: warn

Every check takes name (default type(columns)), scope (added: the rows the branch adds over
main, the default; branch: every row of the branch) and severity (error, the default, or
warn: reported, never fails the audit). The sql check queries the view \`rows\` (the rows in
its scope) with DuckDB SQL. Columns and SQL are checked against the table before any data
is read.

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad input (check
file invalid, table or branch missing, SQL invalid): one line on stderr, nothing changed;
3 the audit could not run (a data file missing or unreadable, storage or catalog failing):
one line on stderr, retry once the cause is fixed.
The result is stored in the table property floe.wap.audit.<branch> (status passed|failed,
the audited snapshot) unless --no-record; floe publish and floe branch list read it.

Examples:
  floe audit db.orders --branch etl_2026_06_01 --checks checks.yaml
  floe audit db.orders --branch etl_2026_06_01 --checks checks.yaml --json --no-record
  floe audit db.orders --branch staged --snapshot 5120930298342412345 --checks checks.yaml`;

export function registerAuditCommands(program: Command, ctx: CliCommandContext): void {
  program.command('audit <table>')
    .description('check what a branch adds (or holds) against declarative checks before it is published (write-audit-publish)')
    .requiredOption('--branch <name>', 'branch to audit (with --snapshot: the name the result is recorded under)')
    .requiredOption('--checks <file>', 'check file, YAML or JSON (see below)')
    .option('--snapshot <id>', 'audit this snapshot (e.g. one staged with a wap.id) instead of the branch head; scope added = its own rows')
    .option('--base <branch>', 'what scope added compares with', 'main')
    .option('--json', 'print the report as JSON')
    .option('--no-record', 'do not store the result in the table property floe.wap.audit.<branch>')
    .addHelpText('after', HELP)
    .action(async (name: string, o: { branch: string; checks: string; snapshot?: string; base: string; json?: boolean; record: boolean }) => {
      // The audit code (DuckDB, Parquet) is imported when the command runs, not when it is registered.
      const { loadAuditChecks } = await import('../audit/audit-checks.ts');
      const { auditReportJson, formatAuditReport, recordAuditResult } = await import('../audit/audit-report.ts');
      const { runAudit } = await import('../audit/run-audit.ts');
      let report;
      try {
        if (o.snapshot !== undefined && !/^-?\d+$/.test(o.snapshot)) throw new ValidationError(`--snapshot must be a snapshot id (an integer), got '${o.snapshot}'`);
        const id = parseTableIdentifier(name);
        const checks = await loadAuditChecks(o.checks);
        report = await runAudit(await ctx.open(), id, {
          branch: o.branch, checks, baseBranch: o.base,
          ...(o.snapshot !== undefined ? { snapshotId: BigInt(o.snapshot) } : {}),
        });
      } catch (e) {
        if (e instanceof FloeError && (e.kind === 'validation' || e.kind === 'not-found')) {
          ctx.err(`floe: ${errorMessage(e)}`);
          ctx.setExitCode(AUDIT_EXIT.badInput);
          return;
        }
        ctx.err(`floe: ${errorMessage(e)}`);
        ctx.setExitCode(AUDIT_EXIT.couldNotRun);
        return;
      }
      if (o.json) ctx.out(JSON.stringify(auditReportJson(report), null, 2));
      else for (const line of formatAuditReport(report)) ctx.out(line);
      try {
        if (o.record) await recordAuditResult(await ctx.open(), parseTableIdentifier(name), report);
      } catch (e) {
        ctx.err(`floe: the audit ran but its result could not be recorded: ${errorMessage(e)}`);
        ctx.setExitCode(AUDIT_EXIT.couldNotRun);
        return;
      }
      ctx.setExitCode(report.passed ? AUDIT_EXIT.passed : AUDIT_EXIT.failed);
    });
}
