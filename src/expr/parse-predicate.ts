// The predicate language of `floe delete --where`: SQL-ish text → an unbound Expr tree.
// Hand-written recursive descent rather than a SQL parser library: the grammar is a dozen
// rules, a SQL library would be ~100× the size and its AST would still need binding to Iceberg
// field ids and types (bind-predicate.ts), and its error messages would not name positions the
// way a one-line `--where` needs. Precedence, loosest first: OR, AND, NOT, comparison.
import { ValidationError } from '../errors.ts';

export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A literal as written; bind-predicate.ts turns it into a value of the column's type. */
export type LiteralToken =
  | { readonly kind: 'string'; readonly text: string }
  /** Number text as written (sign included): `-12`, `1.50`, `2e-3`. */
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  /** `DATE '2024-01-01'`, `TIME '12:00:00'`, `TIMESTAMP '2024-01-01T00:00:00'`. */
  | { readonly kind: 'typed'; readonly type: 'date' | 'time' | 'timestamp'; readonly text: string }
  /** `X'00ff'`: bytes for binary, fixed and uuid columns. */
  | { readonly kind: 'bytes'; readonly hex: string };

export type Expr =
  | { readonly kind: 'and' | 'or'; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'not'; readonly child: Expr }
  | { readonly kind: 'true' | 'false' }
  | { readonly kind: 'cmp'; readonly op: ComparisonOp; readonly column: string; readonly path: readonly string[]; readonly literal: LiteralToken }
  | { readonly kind: 'in'; readonly column: string; readonly path: readonly string[]; readonly literals: readonly LiteralToken[]; readonly negated: boolean }
  | { readonly kind: 'is-null'; readonly column: string; readonly path: readonly string[]; readonly negated: boolean };

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'word' | 'quoted-name' | 'string' | 'number' | 'bytes' | 'op' | '(' | ')' | ',' | '.' | 'end';

interface Token {
  readonly kind: TokenKind;
  /** Decoded value: the word, the unescaped name or string, the number text, the operator. */
  readonly value: string;
  /** 1-based character position of the token's first character. */
  readonly position: number;
  /** The token as written, for messages. */
  readonly source: string;
}

const NUMBER_RE = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const WORD_RE = /^[\p{L}_][\p{L}\p{N}_$]*/u;
const OPS = ['<=', '>=', '<>', '!=', '=', '<', '>'];

function fail(label: string, message: string): never {
  throw new ValidationError(`${label}: ${message}`);
}

/** Reads a quote-delimited run where the quote doubled stands for itself ('it''s', "a""b"). */
function readQuoted(text: string, start: number, quote: string, label: string, what: string): [string, number] {
  let out = '';
  let i = start + 1;
  for (;;) {
    const next = text.indexOf(quote, i);
    if (next < 0) fail(label, `unterminated ${what} starting at position ${start + 1}`);
    out += text.slice(i, next);
    if (text[next + 1] === quote) { out += quote; i = next + 2; continue; }
    return [out, next + 1];
  }
}

function tokenize(text: string, label: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, value: string, start: number, end: number): void => {
    tokens.push({ kind, value, position: start + 1, source: text.slice(start, end) });
    i = end;
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) { i++; continue; }
    const rest = text.slice(i);
    if (ch === "'") {
      const [value, end] = readQuoted(text, i, "'", label, 'string');
      push('string', value, i, end);
    } else if (ch === '"') {
      const [value, end] = readQuoted(text, i, '"', label, 'quoted name');
      if (value === '') fail(label, `empty quoted name at position ${i + 1}`);
      push('quoted-name', value, i, end);
    } else if ((ch === 'x' || ch === 'X') && text[i + 1] === "'") {
      const [value, end] = readQuoted(text, i + 1, "'", label, 'bytes literal');
      if (!/^(?:[0-9A-Fa-f]{2})*$/.test(value)) fail(label, `bytes literal at position ${i + 1} needs an even number of hex digits, found ${text.slice(i, end)}`);
      push('bytes', value.toLowerCase(), i, end);
    } else if (NUMBER_RE.test(rest)) {
      const m = NUMBER_RE.exec(rest)![0];
      // `1abc` is neither a number nor a name: refuse it here rather than as two tokens.
      if (/^[\p{L}_]/u.test(text.slice(i + m.length))) {
        const word = /^[A-Za-z0-9_.$]+/.exec(text.slice(i + (m.startsWith('-') ? 1 : 0)))?.[0] ?? m;
        fail(label, `malformed number at position ${i + 1}, found '${m.startsWith('-') ? '-' : ''}${word}'`);
      }
      push('number', m, i, i + m.length);
    } else if (WORD_RE.test(rest)) {
      const m = WORD_RE.exec(rest)![0];
      push('word', m, i, i + m.length);
    } else if (ch === '(' || ch === ')' || ch === ',' || ch === '.') {
      push(ch, ch, i, i + 1);
    } else {
      const op = OPS.find((o) => rest.startsWith(o));
      if (op === undefined) fail(label, `unexpected character '${ch}' at position ${i + 1}`);
      push('op', op, i, i + op.length);
    }
  }
  tokens.push({ kind: 'end', value: '', position: text.length + 1, source: '' });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Grammar

const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'true', 'false']);
const TYPED_LITERALS: ReadonlySet<string> = new Set(['date', 'time', 'timestamp']);
const FLIPPED: Readonly<Record<ComparisonOp, ComparisonOp>> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function isKeyword(token: Token, keyword: string): boolean {
  return token.kind === 'word' && token.value.toLowerCase() === keyword;
}

function describeToken(token: Token): string {
  return token.kind === 'end' ? 'end of input' : `'${token.source}'`;
}

class PredicateParser {
  private at = 0;
  constructor(private readonly tokens: readonly Token[], private readonly label: string) {}

  parse(): Expr {
    const expr = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') this.fail(`expected AND, OR or the end of the predicate at position ${next.position}, found ${describeToken(next)}`);
    return expr;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.at + offset, this.tokens.length - 1)]!;
  }

  private take(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.at++;
    return token;
  }

  private fail(message: string): never {
    return fail(this.label, message);
  }

  private expected(what: string, after: Token | undefined): never {
    const next = this.peek();
    const where = after === undefined ? '' : ` after ${describeToken(after)}`;
    return this.fail(`expected ${what}${where} at position ${next.position}, found ${describeToken(next)}`);
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (isKeyword(this.peek(), 'or')) {
      const op = this.take();
      left = { kind: 'or', left, right: this.parseAnd(op) };
    }
    return left;
  }

  private parseAnd(after?: Token): Expr {
    let left = this.parseNot(after);
    while (isKeyword(this.peek(), 'and')) {
      const op = this.take();
      left = { kind: 'and', left, right: this.parseNot(op) };
    }
    return left;
  }

  private parseNot(after?: Token): Expr {
    if (isKeyword(this.peek(), 'not')) {
      const op = this.take();
      return { kind: 'not', child: this.parseNot(op) };
    }
    return this.parsePrimary(after);
  }

  private parsePrimary(after: Token | undefined): Expr {
    const token = this.peek();
    if (token.kind === '(') {
      this.take();
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind !== ')') this.fail(`expected ')' at position ${close.position} to close the '(' at position ${token.position}, found ${describeToken(close)}`);
      this.take();
      return inner;
    }
    if (this.startsLiteral()) {
      // `5 < x` or `TRUE = flag`; a lone TRUE/FALSE is the constant predicate.
      if ((isKeyword(token, 'true') || isKeyword(token, 'false')) && this.peek(1).kind !== 'op') {
        this.take();
        return { kind: token.value.toLowerCase() as 'true' | 'false' };
      }
      const literal = this.parseLiteral(after);
      const opToken = this.peek();
      if (opToken.kind !== 'op') this.expected('a comparison operator', this.tokens[this.at - 1]);
      this.take();
      const column = this.parseColumn(opToken);
      return { kind: 'cmp', op: FLIPPED[normaliseOp(opToken.value)], column: column.join('.'), path: column, literal };
    }
    if (!this.startsColumn()) this.expected('a column name, NOT or \'(\'', after);
    const path = this.parseColumn(after);
    const column = path.join('.');
    const next = this.peek();
    if (next.kind === 'op') {
      this.take();
      return { kind: 'cmp', op: normaliseOp(next.value), column, path, literal: this.parseLiteral(next) };
    }
    if (isKeyword(next, 'is')) {
      this.take();
      let negated = false;
      if (isKeyword(this.peek(), 'not')) { this.take(); negated = true; }
      if (!isKeyword(this.peek(), 'null')) this.expected('NULL', this.tokens[this.at - 1]);
      this.take();
      return { kind: 'is-null', column, path, negated };
    }
    let negated = false;
    if (isKeyword(next, 'not') && isKeyword(this.peek(1), 'in')) { this.take(); negated = true; }
    if (isKeyword(this.peek(), 'in')) {
      const inToken = this.take();
      if (this.peek().kind !== '(') this.expected("'('", inToken);
      let separator = this.take();
      const literals: LiteralToken[] = [];
      for (;;) {
        literals.push(this.parseLiteral(separator));
        if (this.peek().kind === ',') { separator = this.take(); continue; }
        if (this.peek().kind === ')') { this.take(); break; }
        this.expected("',' or ')'", this.tokens[this.at - 1]);
      }
      return { kind: 'in', column, path, literals, negated };
    }
    return this.expected('a comparison operator, IN, NOT IN or IS', this.tokens[this.at - 1]);
  }

  private startsLiteral(): boolean {
    const token = this.peek();
    if (token.kind === 'string' || token.kind === 'number' || token.kind === 'bytes') return true;
    if (isKeyword(token, 'true') || isKeyword(token, 'false')) return true;
    return token.kind === 'word' && TYPED_LITERALS.has(token.value.toLowerCase()) && this.peek(1).kind === 'string';
  }

  private startsColumn(): boolean {
    const token = this.peek();
    return token.kind === 'quoted-name' || (token.kind === 'word' && !KEYWORDS.has(token.value.toLowerCase()));
  }

  /** `a`, `a.b`, `"odd name".b`: the path of field names from the schema's top level. */
  private parseColumn(after: Token | undefined): string[] {
    if (!this.startsColumn()) this.expected('a column name', after);
    const path = [this.take().value];
    while (this.peek().kind === '.') {
      const dot = this.take();
      if (!this.startsColumn()) this.expected('a field name', dot);
      path.push(this.take().value);
    }
    return path;
  }

  private parseLiteral(after: Token | undefined): LiteralToken {
    if (!this.startsLiteral()) {
      const next = this.peek();
      const where = `${after === undefined ? '' : ` after ${describeToken(after)}`} at position ${next.position}`;
      // `x = NULL` is never TRUE in SQL, so a delete with it would silently remove nothing.
      if (isKeyword(next, 'null')) this.fail(`expected a literal${where}, found NULL; write IS NULL or IS NOT NULL`);
      if (this.startsColumn()) this.fail(`expected a literal${where}, found column ${describeToken(next)} (comparing two columns is not supported)`);
      this.expected('a literal', after);
    }
    const token = this.take();
    switch (token.kind) {
      case 'string': return { kind: 'string', text: token.value };
      case 'number': return { kind: 'number', text: token.value };
      case 'bytes': return { kind: 'bytes', hex: token.value };
      default: {
        const word = token.value.toLowerCase();
        if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true' };
        return { kind: 'typed', type: word as 'date' | 'time' | 'timestamp', text: this.take().value };
      }
    }
  }
}

function normaliseOp(op: string): ComparisonOp {
  return op === '<>' ? '!=' : (op as ComparisonOp);
}

/**
 * Parses a `--where` predicate. Errors are ValidationErrors of one line naming the 1-based
 * character position and the token found there; `label` prefixes them (default `--where`).
 */
export function parsePredicate(text: string, label = '--where'): Expr {
  const tokens = tokenize(text, label);
  if (tokens.length === 1) fail(label, 'the predicate is empty');
  return new PredicateParser(tokens, label).parse();
}

/** Prints an Expr back as predicate text that parsePredicate reads to the same tree. */
export function formatPredicate(expr: Expr): string {
  switch (expr.kind) {
    case 'true': return 'TRUE';
    case 'false': return 'FALSE';
    case 'and':
    case 'or':
      return `(${formatPredicate(expr.left)} ${expr.kind.toUpperCase()} ${formatPredicate(expr.right)})`;
    case 'not': return `(NOT ${formatPredicate(expr.child)})`;
    case 'cmp': return `${formatColumn(expr.path)} ${expr.op} ${formatLiteral(expr.literal)}`;
    case 'in': return `${formatColumn(expr.path)} ${expr.negated ? 'NOT IN' : 'IN'} (${expr.literals.map(formatLiteral).join(', ')})`;
    case 'is-null': return `${formatColumn(expr.path)} IS ${expr.negated ? 'NOT NULL' : 'NULL'}`;
  }
}

function formatColumn(path: readonly string[]): string {
  return path.map((part) => (WORD_RE.exec(part)?.[0] === part && !KEYWORDS.has(part.toLowerCase()) ? part : `"${part.replaceAll('"', '""')}"`)).join('.');
}

export function formatLiteral(literal: LiteralToken): string {
  switch (literal.kind) {
    case 'string': return `'${literal.text.replaceAll("'", "''")}'`;
    case 'number': return literal.text;
    case 'boolean': return literal.value ? 'TRUE' : 'FALSE';
    case 'typed': return `${literal.type.toUpperCase()} '${literal.text.replaceAll("'", "''")}'`;
    case 'bytes': return `X'${literal.hex}'`;
  }
}
