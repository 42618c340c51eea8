// What is wrong in a schema JSON a person wrote (`floe table create --schema`), in one sentence
// that names the field by its path (`field "address.city": missing "required" (true or false)`)
// — instead of a validator's path into the document (`fields.0.type.fields.2.required`).
import { parsePrimitive } from './types.ts';

const TYPES = 'boolean, int, long, float, double, decimal(P,S), date, time, timestamp, timestamptz, string, uuid, fixed[N], binary, '
  + 'or {"type": "struct" | "list" | "map", …}';

/** Names from SQL, Avro, Arrow and JSON Schema that people reach for, with Iceberg's own. */
const ICEBERG_NAME_FOR: Readonly<Record<string, string>> = {
  integer: 'int', int32: 'int', smallint: 'int', tinyint: 'int', short: 'int', int64: 'long', bigint: 'long',
  bool: 'boolean', varchar: 'string', text: 'string', str: 'string', char: 'string', utf8: 'string',
  float32: 'float', real: 'float', float64: 'double', number: 'double', numeric: 'decimal(P,S)', decimal: 'decimal(P,S)',
  datetime: 'timestamp', timestamp_ntz: 'timestamp', timestamp_ltz: 'timestamptz', timestamp_tz: 'timestamptz',
  bytes: 'binary', blob: 'binary', fixed: 'fixed[N]', object: '{"type": "struct", "fields": […]}', record: '{"type": "struct", "fields": […]}',
  array: '{"type": "list", "element": …, "element-required": …}',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

/** `path`: the field's path (`address.city`, `tags.element`); `what` names the missing key. */
function typeProblem(t: unknown, path: string, what = 'type'): string | undefined {
  const where = `field "${path}"`;
  if (t === undefined) return `${where}: missing "${what}" (${TYPES})`;
  if (typeof t === 'string') {
    if (parsePrimitive(t)) return undefined;
    if (/^\s*decimal\s*\(/i.test(t)) return `${where}: type ${show(t)} is not a valid decimal (precision 1-38, scale at most the precision, e.g. "decimal(10,2)")`;
    const lower = t.trim().toLowerCase();
    const hint = parsePrimitive(lower) ? `type names are lower case: "${lower}"`
      : ICEBERG_NAME_FOR[lower] ? `Iceberg calls it ${ICEBERG_NAME_FOR[lower]}` : `Iceberg types: ${TYPES}`;
    return `${where}: unknown type ${show(t)} (${hint})`;
  }
  if (!isObject(t)) return `${where}: "${what}" must be a type name or a nested type object, got ${show(t)}`;
  switch (t.type) {
    case 'struct':
      return fieldsProblem(t.fields, path);
    case 'list':
      if (typeof t['element-required'] !== 'boolean') return `${where}: list ${missingOrBad('element-required', t['element-required'])}`;
      if (t['element-id'] !== undefined && !Number.isInteger(t['element-id'])) return `${where}: "element-id" must be an integer, got ${show(t['element-id'])}`;
      return typeProblem(t.element, `${path}.element`, 'element');
    case 'map':
      if (typeof t['value-required'] !== 'boolean') return `${where}: map ${missingOrBad('value-required', t['value-required'])}`;
      for (const k of ['key-id', 'value-id'] as const) {
        if (t[k] !== undefined && !Number.isInteger(t[k])) return `${where}: "${k}" must be an integer, got ${show(t[k])}`;
      }
      return typeProblem(t.key, `${path}.key`, 'key') ?? typeProblem(t.value, `${path}.value`, 'value');
    default:
      return `${where}: a nested type's "type" must be "struct", "list" or "map", got ${show(t.type)}`;
  }
}

function missingOrBad(key: string, v: unknown): string {
  return v === undefined ? `missing "${key}" (true or false)` : `"${key}" must be true or false, got ${show(v)}`;
}

/** `parent`: the enclosing field's path ('' at the top). */
function fieldsProblem(fields: unknown, parent: string): string | undefined {
  const of = parent === '' ? 'the schema' : `struct "${parent}"`;
  if (!Array.isArray(fields)) return `${of}: "fields" must be a list of fields, got ${show(fields)}`;
  for (const [i, f] of fields.entries()) {
    const nth = `field #${i + 1} of ${of}`;
    if (!isObject(f)) return `${nth}: must be an object like {"name": "id", "required": true, "type": "long"}, got ${show(f)}`;
    if (f.name === undefined) return `${nth}: missing "name"`;
    if (typeof f.name !== 'string' || f.name === '') return `${nth}: "name" must be a non-empty string, got ${show(f.name)}`;
    const path = parent === '' ? f.name : `${parent}.${f.name}`;
    const where = `field "${path}"`;
    if (typeof f.required !== 'boolean') return `${where}: ${missingOrBad('required', f.required)}`;
    if (f.id !== undefined && !Number.isInteger(f.id)) return `${where}: "id" must be an integer, got ${show(f.id)}`;
    if (f.doc !== undefined && typeof f.doc !== 'string') return `${where}: "doc" must be a string, got ${show(f.doc)}`;
    const t = typeProblem(f.type, path);
    if (t) return t;
  }
  return undefined;
}

/**
 * The first thing wrong with a schema document, as one line naming the field path, or
 * undefined when its shape is right (ids, types and names are then checked as the schema is built).
 */
export function schemaJsonProblem(json: unknown): string | undefined {
  if (!isObject(json)) return `a schema is a JSON object {"type": "struct", "fields": […]}, got ${Array.isArray(json) ? 'a list' : show(json)}`;
  if (json.type !== 'struct') return `the schema's "type" must be "struct", got ${show(json.type)}`;
  if (json['schema-id'] !== undefined && !Number.isInteger(json['schema-id'])) return `"schema-id" must be an integer, got ${show(json['schema-id'])}`;
  return fieldsProblem(json.fields, '');
}
