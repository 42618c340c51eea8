// Namespace and table identifiers: parsing `ns.table`, and validation that keeps names
// usable as folder names (no path traversal) and as Trino/Spark identifiers.
import { ValidationError } from '../errors.ts';

/** A table's name: its namespace (one or more levels) and its own name. `shop.orders` is
 * `{ namespace: ['shop'], name: 'orders' }`; see {@link parseTableIdentifier}. */
export interface TableIdentifier {
  /** Namespace levels, outermost first. */
  readonly namespace: readonly string[];
  /** The table's own name. */
  readonly name: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$/;

/** Throws a ValidationError naming the bad part unless every part is a safe name. */
export function validateNamePart(part: string, what: string): void {
  if (!NAME.test(part)) {
    throw new ValidationError(`invalid ${what} '${part}': use letters, digits, '_' or '-' (at most 128, not starting with '-'); '.', '/', '..' and spaces are not allowed`);
  }
}

export function parseNamespace(text: string): string[] {
  const parts = text.split('.');
  for (const p of parts) validateNamePart(p, 'namespace name');
  return parts;
}

/**
 * Parses `ns.table` or `ns1.ns2.table` into a validated identifier.
 *
 * @throws {@link ValidationError} without a namespace, or when a part is not a safe name
 * (letters, digits, `_` or `-`; no `/`, `..` or spaces: parts become folder names).
 * @example
 * ```ts
 * parseTableIdentifier('shop.orders'); // { namespace: ['shop'], name: 'orders' }
 * ```
 */
export function parseTableIdentifier(text: string): TableIdentifier {
  const parts = text.split('.');
  if (parts.length < 2) throw new ValidationError(`invalid table identifier '${text}': expected NAMESPACE.TABLE`);
  const name = parts.pop()!;
  for (const p of parts) validateNamePart(p, 'namespace name');
  validateNamePart(name, 'table name');
  return { namespace: parts, name };
}

export function validateIdentifier(id: TableIdentifier): void {
  if (id.namespace.length === 0) throw new ValidationError(`invalid table identifier '${id.name}': a namespace is required`);
  for (const p of id.namespace) validateNamePart(p, 'namespace name');
  validateNamePart(id.name, 'table name');
}

export function namespaceToString(ns: readonly string[]): string { return ns.join('.'); }

/** The dotted form of an identifier (`shop.orders`), the reverse of {@link parseTableIdentifier}. */
export function identifierToString(id: TableIdentifier): string { return `${namespaceToString(id.namespace)}.${id.name}`; }
