// Each check as SQL over the view `rows` (the rows in the check's scope): the query that
// returns the offending rows (dbt's rule: a test passes when it returns nothing), from which
// the runner takes a count and at most five samples. row_count and freshness measure one
// value instead (see run-audit.ts).
import { ValidationError } from '../errors.ts';
import type { Schema } from '../spec/schema.ts';
import type { NestedField } from '../spec/types.ts';
import type { AuditCheck, CheckLiteral } from './audit-checks.ts';
import { duckdbType, quoteIdent, quoteString } from './duckdb-session.ts';

/** A check bound to the table: columns resolved, defaults (the table's key) filled in. */
export type BoundCheck = AuditCheck & {
  /** The top-level fields the check names, in order. */
  readonly fields: readonly NestedField[];
  /** For relationships: the DuckDB table holding the other table's column (as `v`). */
  readonly refTable?: string;
  /** For accepted_values with a long list: the DuckDB table holding the values as text (`v`),
   * loaded by loadAcceptedValues instead of a literal list in the SQL text. */
  readonly valuesTable?: string;
};

/** Up to this many accepted values are inlined in the query; longer lists go to a table (a
 * 200,000-value literal list took ~800 MB of parser memory per compiled query). */
export const INLINE_ACCEPTED_VALUES = 1000;

/** A literal's text for the values table: cast to the column's type in the query, as literalSql does. */
export function literalText(v: CheckLiteral): string {
  return typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
}

/** The table's top-level field called `name` (dotted names are not columns of `rows`). */
export function resolveColumn(schema: Schema, name: string, what: string): NestedField {
  const f = schema.fields.find((x) => x.name === name);
  if (!f) {
    throw new ValidationError(`${what}: column '${name}' is not in the table (columns: ${schema.fields.map((x) => x.name).join(', ')})`);
  }
  return f;
}

const col = (f: NestedField): string => `t.${quoteIdent(f.name)}`;

/** A literal as a value of the field's type (`CAST('2026-01-01' AS DATE)`, exact decimals). */
function literalSql(v: CheckLiteral, f: NestedField): string {
  const text = typeof v === 'string' ? quoteString(v) : typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : quoteString(String(v));
  return `CAST(${text} AS ${duckdbType(f.type)})`;
}

/** SQL returning the offending rows of a row-wise check, or undefined for measured checks. */
export function offendingRowsSql(c: BoundCheck): string | undefined {
  const [f] = c.fields;
  switch (c.type) {
    case 'not_null':
      return `SELECT * FROM rows t WHERE ${c.fields.map((x) => `${col(x)} IS NULL`).join(' OR ')}`;
    case 'unique': {
      const keys = c.fields.map(col);
      return `SELECT ${keys.join(', ')}, count(*) AS n FROM rows t WHERE ${keys.map((k) => `${k} IS NOT NULL`).join(' AND ')}`
        + ` GROUP BY ${keys.join(', ')} HAVING count(*) > 1 ORDER BY n DESC, ${keys.join(', ')}`;
    }
    case 'accepted_values': {
      const list = c.valuesTable !== undefined
        ? `SELECT CAST(v AS ${duckdbType(f!.type)}) FROM ${quoteIdent(c.valuesTable)}`
        : c.values.map((v) => literalSql(v, f!)).join(', ');
      return `SELECT * FROM rows t WHERE ${col(f!)} IS NOT NULL AND ${col(f!)} NOT IN (${list})`;
    }
    case 'range': {
      const out: string[] = [];
      if (c.min !== undefined) out.push(`${col(f!)} ${c.inclusive ? '<' : '<='} ${literalSql(c.min, f!)}`);
      if (c.max !== undefined) out.push(`${col(f!)} ${c.inclusive ? '>' : '>='} ${literalSql(c.max, f!)}`);
      return `SELECT * FROM rows t WHERE ${out.join(' OR ')}`;
    }
    case 'relationships':
      return `SELECT * FROM rows t WHERE ${col(f!)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(c.refTable!)} r WHERE r.v = ${col(f!)})`;
    case 'sql':
      // Ends with a newline: the runner wraps it (`SELECT count(*) FROM (<sql>) q`), and a
      // trailing `-- comment` would otherwise swallow the wrapper's closing parenthesis.
      return `${c.sql.trim().replace(/;\s*$/, '')}\n`;
    case 'row_count':
    case 'freshness':
      return undefined;
  }
}

/** The newest value of a freshness column, as microseconds since the epoch (NULL: no value). */
export function freshnessSql(c: BoundCheck): string {
  const f = c.fields[0]!;
  const kind = f.type.kind;
  const v = kind === 'date' ? `CAST(max(${col(f)}) AS TIMESTAMP)` : kind === 'timestamptz' ? `max(${col(f)})` : `CAST(max(${col(f)}) AS TIMESTAMP)`;
  return `SELECT epoch_us(${v}) FROM rows t`;
}
