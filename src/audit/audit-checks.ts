// The audit check file (YAML or JSON): dbt's check names (not_null, unique, accepted_values,
// range, row_count, freshness, relationships, sql), each with a name, a scope and a severity.
// Validated with zod; every error is one line naming the file and the key path
// (`checks.yaml: checks[2].column: required`). Columns are checked against a table later
// (bindAuditChecks), SQL is parsed here (DuckDB's parser) so a typo never waits for audit time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../duration.ts';
import { ValidationError, errorMessage } from '../errors.ts';
import { parseSqlStatement } from './duckdb-session.ts';

/** The audit check types (dbt's names, plus `sql`). */
export const CHECK_TYPES = ['not_null', 'unique', 'accepted_values', 'range', 'row_count', 'freshness', 'relationships', 'sql'] as const;
/** One of {@link CHECK_TYPES}. */
export type CheckType = (typeof CHECK_TYPES)[number];
/** `added`: the rows the branch adds over its base; `branch`: every live row at the branch head. */
/** `added`: only the rows the branch adds over main (default); `branch`: every row of the branch. */
export type CheckScope = 'added' | 'branch';
/** `warn` reports but never fails the audit. */
/** `error` (default) fails the audit; `warn` is only reported. */
export type CheckSeverity = 'error' | 'warn';

/** A literal a check compares with: numbers, or text cast to the column's type (dates, decimals…). */
export type CheckLiteral = string | number | boolean;

/** What every audit check has, whatever its type. */
export interface CheckBase {
  /** Unique name (default `<type>#<index>`). */
  readonly name: string;
  /** Which rows are checked. */
  readonly scope: CheckScope;
  /** Whether a failure fails the audit. */
  readonly severity: CheckSeverity;
}

/** One validated audit check, discriminated by `type`. */
export type AuditCheck = CheckBase & (
  | { readonly type: 'not_null'; readonly columns: readonly string[] }
  /** No columns: the table's key (identifier fields), resolved when bound to the table. */
  | { readonly type: 'unique'; readonly columns?: readonly string[] }
  | { readonly type: 'accepted_values'; readonly column: string; readonly values: readonly CheckLiteral[] }
  | { readonly type: 'range'; readonly column: string; readonly min?: CheckLiteral; readonly max?: CheckLiteral; readonly inclusive: boolean }
  | { readonly type: 'row_count'; readonly min?: number; readonly max?: number }
  | { readonly type: 'freshness'; readonly column: string; readonly maxAgeMs: number; readonly maxAge: string }
  | { readonly type: 'relationships'; readonly column: string; readonly to: { readonly table: string; readonly column: string } }
  | { readonly type: 'sql'; readonly sql: string }
);

/** A validated check file: what {@link auditAndPublish} runs. */
export interface AuditChecks {
  /** Where the checks came from (a file path), for messages. */
  readonly source: string;
  /** The checks, in the file's order. */
  readonly checks: readonly AuditCheck[];
}

const literal = z.union([z.string(), z.number(), z.boolean()]);
const common = {
  name: z.string().min(1).optional(),
  scope: z.enum(['added', 'branch']).optional(),
  severity: z.enum(['error', 'warn']).optional(),
};
const columnList = z.array(z.string().min(1)).min(1);

const checkSchemas = {
  not_null: z.strictObject({ type: z.literal('not_null'), ...common, columns: columnList.optional(), column: z.string().min(1).optional() })
    .refine((c) => (c.columns === undefined) !== (c.column === undefined), { message: 'give columns (a list) or column, not both', path: ['columns'] }),
  unique: z.strictObject({ type: z.literal('unique'), ...common, columns: columnList.optional(), column: z.string().min(1).optional() })
    .refine((c) => c.columns === undefined || c.column === undefined, { message: 'give columns (a list) or column, not both', path: ['columns'] }),
  accepted_values: z.strictObject({ type: z.literal('accepted_values'), ...common, column: z.string().min(1), values: z.array(literal).min(1) }),
  range: z.strictObject({ type: z.literal('range'), ...common, column: z.string().min(1), min: literal.optional(), max: literal.optional(), inclusive: z.boolean().optional() })
    .refine((c) => c.min !== undefined || c.max !== undefined, { message: 'give min, max or both', path: ['min'] }),
  row_count: z.strictObject({ type: z.literal('row_count'), ...common, min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional() })
    .refine((c) => c.min !== undefined || c.max !== undefined, { message: 'give min, max or both', path: ['min'] })
    .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { message: 'min must not be above max', path: ['max'] }),
  freshness: z.strictObject({ type: z.literal('freshness'), ...common, column: z.string().min(1), max_age: z.string().min(1) }),
  relationships: z.strictObject({
    type: z.literal('relationships'), ...common, column: z.string().min(1),
    to: z.strictObject({ table: z.string().min(1), column: z.string().min(1) }),
  }),
  sql: z.strictObject({ type: z.literal('sql'), ...common, sql: z.string().min(1) }),
} as const;

const fileSchema = z.strictObject({ checks: z.array(z.unknown()) });

/** `checks[2].column` from a zod path under checks[i]. */
function keyPath(prefix: string, p: readonly PropertyKey[]): string {
  let out = prefix;
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : `.${String(k)}`;
  return out;
}

function issueText(prefix: string, err: z.ZodError): string {
  const issue = err.issues[0]!;
  const where = keyPath(prefix, issue.path) || '(root)';
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: required`;
  if (issue.code === 'unrecognized_keys') return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  return `${where}: ${issue.message}`;
}

function defaultName(c: { type: CheckType; columns?: readonly string[]; column?: string }): string {
  const cols = c.columns ?? (c.column !== undefined ? [c.column] : []);
  return cols.length > 0 ? `${c.type}(${cols.join(',')})` : c.type;
}

/** Validates one check object (already known to be an object with a known type). */
function parseCheck(raw: unknown, index: number, source: string): AuditCheck {
  const where = `checks[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError(`${source}: ${where}: must be an object with a type`);
  const type = (raw as { type?: unknown }).type;
  if (type === undefined) throw new ValidationError(`${source}: ${where}.type: required (one of ${CHECK_TYPES.join(', ')})`);
  if (typeof type !== 'string' || !(CHECK_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(`${source}: ${where}.type: unknown check type '${String(type)}' (known: ${CHECK_TYPES.join(', ')})`);
  }
  const parsed = checkSchemas[type as CheckType].safeParse(raw);
  if (!parsed.success) throw new ValidationError(`${source}: ${issueText(where, parsed.error)}`);
  const c = parsed.data as Record<string, unknown> & { type: CheckType; name?: string; scope?: CheckScope; severity?: CheckSeverity };
  const base = { scope: c.scope ?? 'added', severity: c.severity ?? 'error' } as const;
  switch (c.type) {
    case 'not_null': {
      const columns = (c.columns as string[] | undefined) ?? [c.column as string];
      return { type: 'not_null', columns, name: c.name ?? defaultName({ type: 'not_null', columns }), ...base };
    }
    case 'unique': {
      const columns = (c.columns as string[] | undefined) ?? (c.column !== undefined ? [c.column as string] : undefined);
      return { type: 'unique', ...(columns ? { columns } : {}), name: c.name ?? defaultName({ type: 'unique', ...(columns ? { columns } : {}) }), ...base };
    }
    case 'accepted_values':
      return { type: 'accepted_values', column: c.column as string, values: c.values as CheckLiteral[], name: c.name ?? defaultName({ type: c.type, column: c.column as string }), ...base };
    case 'range':
      return {
        type: 'range', column: c.column as string, inclusive: (c.inclusive as boolean | undefined) ?? true,
        ...(c.min !== undefined ? { min: c.min as CheckLiteral } : {}), ...(c.max !== undefined ? { max: c.max as CheckLiteral } : {}),
        name: c.name ?? defaultName({ type: c.type, column: c.column as string }), ...base,
      };
    case 'row_count':
      return { type: 'row_count', ...(c.min !== undefined ? { min: c.min as number } : {}), ...(c.max !== undefined ? { max: c.max as number } : {}), name: c.name ?? 'row_count', ...base };
    case 'freshness': {
      let maxAgeMs: number;
      try { maxAgeMs = parseDuration(c.max_age as string); } catch (e) { throw new ValidationError(`${source}: ${where}.max_age: ${errorMessage(e)}`); }
      return { type: 'freshness', column: c.column as string, maxAgeMs, maxAge: c.max_age as string, name: c.name ?? defaultName({ type: c.type, column: c.column as string }), ...base };
    }
    case 'relationships': {
      const to = c.to as { table: string; column: string };
      return { type: 'relationships', column: c.column as string, to, name: c.name ?? defaultName({ type: c.type, column: c.column as string }), ...base };
    }
    case 'sql':
      return { type: 'sql', sql: c.sql as string, name: c.name ?? `sql#${index}`, ...base };
  }
}

/**
 * Validates a parsed check document (`{ checks: [...] }`, or a bare list) from `sourceName`.
 * SQL checks are parsed by DuckDB here; binding them to the table's columns happens in
 * bindAuditChecks, before any row is read.
 */
export async function parseAuditChecks(value: unknown, sourceName: string): Promise<AuditChecks> {
  const doc = Array.isArray(value) ? { checks: value } : value;
  const top = fileSchema.safeParse(doc);
  if (!top.success) throw new ValidationError(`${sourceName}: ${doc === null || typeof doc !== 'object' ? '(root): expected an object with a checks list' : issueText('', top.error).replace(/^\./, '')}`);
  const checks = top.data.checks.map((raw, i) => parseCheck(raw, i, sourceName));
  const names = new Set<string>();
  for (const [i, c] of checks.entries()) {
    if (names.has(c.name)) throw new ValidationError(`${sourceName}: checks[${i}].name: '${c.name}' is used by an earlier check (names must be unique; set name)`);
    names.add(c.name);
    if (c.type === 'sql') {
      try { await parseSqlStatement(c.sql); } catch (e) {
        throw new ValidationError(`${sourceName}: checks[${i}].sql (${c.name}): SQL does not parse: ${oneLine(errorMessage(e).replace(/^Failed to extract statements: /, ''))}`);
      }
    }
  }
  return { source: sourceName, checks };
}

/**
 * Reads and validates a YAML or JSON check file (YAML is a superset of JSON).
 *
 * @throws {@link ValidationError} naming the file and key path (`checks[2].column: required`).
 * @example
 * ```yaml
 * checks:
 *   - { type: not_null, columns: [id, ts] }
 *   - { type: unique }                       # the table's key
 *   - { type: accepted_values, column: status, values: [new, shipped] }
 *   - { type: row_count, min: 1, severity: warn }
 * ```
 */
export async function loadAuditChecks(file: string): Promise<AuditChecks> {
  const name = path.resolve(file);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new ValidationError(`cannot read check file ${name}: ${errorMessage(e)}`); }
  let value: unknown;
  try {
    // merge: `<<: *anchor` reuses a check's settings (aliases stay capped: no alias bombs).
    value = YAML.parse(text, { intAsBigInt: false, prettyErrors: false, uniqueKeys: true, merge: true });
  } catch (e) {
    throw new ValidationError(`${name}: not valid YAML/JSON: ${oneLine(errorMessage(e))}`);
  }
  return parseAuditChecks(value, name);
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
