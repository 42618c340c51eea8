// Binds a parsed `--where` predicate to a table schema: each column path becomes a field id with
// its primitive type, each literal a value of that type in floe's in-memory form (the same
// form primitiveParser gives records, so a row's values and the literals compare directly).
import { ValidationError } from '../errors.ts';
import type { Schema } from '../spec/schema.ts';
import { isPrimitive, primitiveToString, type IcebergType, type NestedField, type PrimitiveType, type PrimitiveValue } from '../spec/types.ts';
import { primitiveParser } from '../writer/value-parsers.ts';
import { formatLiteral, type ComparisonOp, type Expr, type LiteralToken } from './parse-predicate.ts';

/** A column a predicate reads: a primitive field outside any list or map. */
export interface BoundReference {
  readonly fieldId: number;
  /** Dotted name as written in the predicate, for messages. */
  readonly column: string;
  readonly type: PrimitiveType;
  /** The field and every struct above it are required, so the value is never null. */
  readonly neverNull: boolean;
}

export type BoundExpr =
  | { readonly kind: 'and' | 'or'; readonly left: BoundExpr; readonly right: BoundExpr }
  | { readonly kind: 'not'; readonly child: BoundExpr }
  | { readonly kind: 'true' | 'false' }
  | { readonly kind: 'cmp'; readonly op: ComparisonOp; readonly ref: BoundReference; readonly value: PrimitiveValue }
  | { readonly kind: 'in'; readonly ref: BoundReference; readonly values: readonly PrimitiveValue[]; readonly negated: boolean }
  | { readonly kind: 'is-null'; readonly ref: BoundReference; readonly negated: boolean };

/** Resolves columns and literals of `expr` against `schema`; ValidationError names the column. */
export function bindPredicate(expr: Expr, schema: Schema, label = '--where'): BoundExpr {
  const bind = (e: Expr): BoundExpr => {
    switch (e.kind) {
      case 'true':
      case 'false':
        return { kind: e.kind };
      case 'and':
      case 'or':
        return { kind: e.kind, left: bind(e.left), right: bind(e.right) };
      case 'not':
        return { kind: 'not', child: bind(e.child) };
      case 'cmp': {
        const ref = resolveColumn(schema, e.path, label);
        return { kind: 'cmp', op: e.op, ref, value: bindLiteral(ref, e.literal, label) };
      }
      case 'in': {
        const ref = resolveColumn(schema, e.path, label);
        return { kind: 'in', ref, values: e.literals.map((l) => bindLiteral(ref, l, label)), negated: e.negated };
      }
      case 'is-null':
        return { kind: 'is-null', ref: resolveColumn(schema, e.path, label), negated: e.negated };
    }
  };
  return bind(expr);
}

// ---------------------------------------------------------------------------------------------
// Columns

function findChild(fields: readonly NestedField[], name: string): NestedField | undefined {
  const exact = fields.find((f) => f.name === name);
  if (exact) return exact;
  // Spark and Trino match names case-insensitively; do the same when that is unambiguous.
  const folded = fields.filter((f) => f.name.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

function resolveColumn(schema: Schema, path: readonly string[], label: string): BoundReference {
  const column = path.join('.');
  let fields: readonly NestedField[] = schema.fields;
  let neverNull = true;
  let field: NestedField | undefined;
  for (let i = 0; i < path.length; i++) {
    field = findChild(fields, path[i]!);
    if (!field) throw new ValidationError(`${label}: no column '${column}' in the table${closeNames(schema, column)}`);
    neverNull &&= field.required;
    const type: IcebergType = field.type;
    const walked = path.slice(0, i + 1).join('.');
    if (type.kind === 'list' || type.kind === 'map') {
      throw new ValidationError(`${label}: column '${walked}' is a ${type.kind}; predicates can only use primitive columns outside lists and maps`);
    }
    if (type.kind === 'struct') {
      if (i === path.length - 1) {
        const example = type.fields[0] ? ` (e.g. ${column}.${type.fields[0].name})` : '';
        throw new ValidationError(`${label}: column '${column}' is a struct; compare one of its fields${example}`);
      }
      fields = type.fields;
    } else if (i < path.length - 1) {
      throw new ValidationError(`${label}: column '${walked}' is a ${primitiveToString(type)}, so '${column}' names nothing`);
    }
  }
  const leaf = field!;
  if (!isPrimitive(leaf.type)) throw new ValidationError(`${label}: column '${column}' is not a primitive column`);
  return { fieldId: leaf.id, column, type: leaf.type, neverNull };
}

/** Up to three existing column names near `name`, as a message suffix. */
function closeNames(schema: Schema, name: string): string {
  const names: string[] = [];
  for (let id = 0; id <= schema.highestFieldId; id++) {
    const n = schema.findColumnName(id);
    if (n !== undefined && schema.isOutsideRepeated(id)) names.push(n);
  }
  const lower = name.toLowerCase();
  const scored = names
    .map((n) => ({ n, d: editDistance(lower, n.toLowerCase()) }))
    .filter(({ n, d }) => d <= Math.max(2, Math.floor(name.length / 3))
      || (Math.min(n.length, lower.length) >= 3 && (n.toLowerCase().includes(lower) || lower.includes(n.toLowerCase()))))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, 3)
    .map(({ n }) => `'${n}'`);
  if (scored.length > 0) return `; did you mean ${scored.join(', ')}?`;
  const top = schema.fields.slice(0, 8).map((f) => f.name).join(', ');
  return ` (columns: ${top}${schema.fields.length > 8 ? ', ...' : ''})`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// Literals

const EXACT_NUMBER_RE = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Number text as an exact plain decimal (`1.5e2` → `150`, `-2e-2` → `-0.02`); no float rounding. */
function plainDecimal(text: string): string {
  const m = EXACT_NUMBER_RE.exec(text)!;
  const sign = m[1]!;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  const exponent = Number(m[4] ?? '0');
  const digits = `${intPart}${fracPart}`;
  let point = intPart.length + exponent;
  // Exponents beyond any column's range: keep the text short; the type check refuses it anyway.
  if (Math.abs(exponent) > 400) return text;
  let padded = digits;
  if (point < 0) { padded = '0'.repeat(-point) + padded; point = 0; }
  if (point > padded.length) padded += '0'.repeat(point - padded.length);
  const whole = padded.slice(0, point).replace(/^0+(?=\d)/, '') || '0';
  const fraction = padded.slice(point).replace(/0+$/, '');
  return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

const TEMPORAL: ReadonlySet<string> = new Set(['date', 'time', 'timestamp', 'timestamptz']);

/** The text or value handed to the column's primitiveParser, or a refusal reason. */
function parserInput(type: PrimitiveType, literal: LiteralToken): unknown {
  const isTimestamp = type.kind === 'timestamp' || type.kind === 'timestamptz';
  switch (literal.kind) {
    case 'string':
      return isTimestamp ? midnightIfDateOnly(literal.text) : literal.text;
    case 'boolean':
      return literal.value;
    case 'bytes':
      return Uint8Array.from(Buffer.from(literal.hex, 'hex'));
    case 'typed':
      if (literal.type === 'date' && isTimestamp) return midnightIfDateOnly(literal.text);
      if (literal.type === 'timestamp' && isTimestamp) return midnightIfDateOnly(literal.text);
      if (literal.type === type.kind) return literal.text;
      throw new LiteralRefusal(`a ${literal.type.toUpperCase()} literal does not fit a ${primitiveToString(type)} column`);
    case 'number': {
      if (TEMPORAL.has(type.kind)) {
        // Days, milliseconds or microseconds? A bare number is ambiguous, so ask for the form.
        throw new LiteralRefusal(`write ${type.kind} values as text, e.g. ${exampleOf(type.kind)}`);
      }
      if (type.kind === 'float' || type.kind === 'double') return Number(literal.text);
      const plain = plainDecimal(literal.text);
      if (type.kind === 'int' || type.kind === 'long') {
        if (plain.includes('.') || !/^-?\d+$/.test(plain)) throw new LiteralRefusal(`a ${type.kind} column needs a whole number`);
        return plain;
      }
      if (type.kind === 'decimal') return plain;
      throw new LiteralRefusal(`a ${primitiveToString(type)} column needs ${type.kind === 'boolean' ? 'TRUE or FALSE' : 'a quoted literal'}`);
    }
  }
}

/** A date compared with a timestamp means its midnight (Spark and Trino cast it so). */
function midnightIfDateOnly(text: string): string {
  return /^[+-]?\d{4,6}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00` : text;
}

function exampleOf(kind: string): string {
  switch (kind) {
    case 'date': return "DATE '2024-01-01'";
    case 'time': return "TIME '12:30:00'";
    default: return "TIMESTAMP '2024-01-01T12:30:00'";
  }
}

/** Why a literal cannot stand for a column's value; bindLiteral turns it into the message. */
class LiteralRefusal extends ValidationError {}

function bindLiteral(ref: BoundReference, literal: LiteralToken, label: string): PrimitiveValue {
  const refuse = (why: string): never => {
    throw new ValidationError(`${label}: column '${ref.column}' (${primitiveToString(ref.type)}) cannot be compared with ${formatLiteral(literal)}: ${why}`);
  };
  let value: PrimitiveValue;
  try {
    value = primitiveParser(ref.type)(parserInput(ref.type, literal));
  } catch (err) {
    return refuse(err instanceof Error ? err.message : String(err));
  }
  // Iceberg refuses NaN literals (Java's Literals: "use isNaN or notNaN"): NaN equals nothing,
  // so `x = 'NaN'` would silently match no row.
  if (typeof value === 'number' && Number.isNaN(value)) refuse('NaN equals nothing, not even NaN');
  return value;
}
