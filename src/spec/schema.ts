// Iceberg schemas: the JSON form (spec Appendix C), lookups by id and name, fresh id
// assignment, and the identifier-field rules.
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { schemaJsonProblem } from './schema-json-problems.ts';
import {
  isPrimitive, parsePrimitive, primitiveToString,
  type IcebergType, type NestedField, type PrimitiveType, type StructType,
} from './types.ts';

/**
 * An Iceberg schema (spec "Schemas"): top-level fields with unique ids, and the identifier
 * fields (the table's key, which mergeRecords and upsert ingest match rows by). Build one from
 * its JSON form with {@link schemaFromJson}; a table's current one is `currentSchema(metadata)`.
 */
export class Schema {
  /** `schema-id`. */
  readonly schemaId: number;
  /** The top-level fields (columns). */
  readonly fields: readonly NestedField[];
  /** `identifier-field-ids`: the key columns (empty = no key). */
  readonly identifierFieldIds: readonly number[];
  private readonly byId = new Map<number, NestedField>();
  private readonly parentOf = new Map<number, number | undefined>();
  private readonly nameById = new Map<number, string>();

  /** Indexes the fields; ValidationError on a duplicate id or full column name. */
  constructor(schemaId: number, fields: readonly NestedField[], identifierFieldIds: readonly number[] = []) {
    this.schemaId = schemaId;
    this.fields = fields;
    this.identifierFieldIds = identifierFieldIds;
    indexFields(fields, undefined, '', this.byId, this.parentOf, this.nameById);
  }

  /** The schema as a struct type. */
  get asStruct(): StructType { return { kind: 'struct', fields: this.fields }; }

  /** The field (at any depth) with this id. */
  findField(id: number): NestedField | undefined { return this.byId.get(id); }

  /** Dotted full name of a field id (`location.lat`, `tags.element`). */
  findColumnName(id: number): string | undefined { return this.nameById.get(id); }

  /** The field with this dotted full name (`location.lat`). */
  findFieldByName(name: string): NestedField | undefined {
    for (const [id, n] of this.nameById) if (n === name) return this.byId.get(id);
    return undefined;
  }

  /** Ids of the field's ancestors, nearest first. */
  ancestorIds(id: number): number[] {
    const out: number[] = [];
    for (let p = this.parentOf.get(id); p !== undefined; p = this.parentOf.get(p)) out.push(p);
    return out;
  }

  /** The highest field id in use. */
  get highestFieldId(): number {
    let max = 0;
    for (const id of this.byId.keys()) if (id > max) max = id;
    return max;
  }

  /** Primitive leaf fields, depth first (the Parquet column order). */
  leafIds(): number[] {
    const out: number[] = [];
    const walk = (t: IcebergType, id: number): void => {
      if (isPrimitive(t)) { out.push(id); return; }
      if (t.kind === 'struct') for (const f of t.fields) walk(f.type, f.id);
      else if (t.kind === 'list') walk(t.element, t.elementId);
      else { walk(t.key, t.keyId); walk(t.value, t.valueId); }
    };
    for (const f of this.fields) walk(f.type, f.id);
    return out;
  }

  /** True when the leaf is reachable without crossing a list or map (Java only records
   * bounds for those). */
  isOutsideRepeated(id: number): boolean {
    for (const anc of this.ancestorIds(id)) {
      const t = this.byId.get(anc)?.type;
      if (t && (t.kind === 'list' || t.kind === 'map')) return false;
    }
    return true;
  }
}

function indexFields(
  fields: readonly NestedField[], parent: number | undefined, prefix: string,
  byId: Map<number, NestedField>, parentOf: Map<number, number | undefined>, names: Map<number, string>,
): void {
  // Full names must be unique at every depth, not only at the top (Java's indexByName).
  const seen = new Set<string>();
  const add = (f: NestedField, p: number | undefined, name: string): void => {
    if (seen.has(name)) throw new ValidationError(`schema has duplicate column name '${name}'`);
    seen.add(name);
    if (byId.has(f.id)) throw new ValidationError(`schema has duplicate field id ${f.id} ('${name}')`);
    byId.set(f.id, f);
    parentOf.set(f.id, p);
    names.set(f.id, name);
    indexType(f.type, f.id, name);
  };
  const indexType = (t: IcebergType, ownerId: number, name: string): void => {
    if (t.kind === 'struct') for (const c of t.fields) add(c, ownerId, `${name}.${c.name}`);
    else if (t.kind === 'list') add({ id: t.elementId, name: 'element', required: t.elementRequired, type: t.element }, ownerId, `${name}.element`);
    else if (t.kind === 'map') {
      add({ id: t.keyId, name: 'key', required: true, type: t.key }, ownerId, `${name}.key`);
      add({ id: t.valueId, name: 'value', required: t.valueRequired, type: t.value }, ownerId, `${name}.value`);
    }
  };
  for (const f of fields) add(f, parent, prefix + f.name);
}

// ---------- JSON form ----------

type TypeJson = string | StructJson | ListJson | MapJson;
interface FieldJson { id?: number | undefined; name: string; required: boolean; type: TypeJson; doc?: string | undefined }
interface StructJson { type: 'struct'; fields: FieldJson[] }
interface ListJson { type: 'list'; 'element-id'?: number | undefined; 'element-required': boolean; element: TypeJson }
interface MapJson { type: 'map'; 'key-id'?: number | undefined; key: TypeJson; 'value-id'?: number | undefined; 'value-required': boolean; value: TypeJson }

const typeJson: z.ZodType<TypeJson> = z.lazy(() => z.union([
  z.string(),
  z.object({ type: z.literal('struct'), fields: z.array(fieldJson) }),
  z.object({ type: z.literal('list'), 'element-id': z.number().int().optional(), 'element-required': z.boolean(), element: typeJson }),
  z.object({
    type: z.literal('map'), 'key-id': z.number().int().optional(), key: typeJson,
    'value-id': z.number().int().optional(), 'value-required': z.boolean(), value: typeJson,
  }),
]));
const fieldJson: z.ZodType<FieldJson> = z.lazy(() => z.object({
  id: z.number().int().optional(),
  name: z.string().min(1),
  required: z.boolean(),
  type: typeJson,
  doc: z.string().optional(),
}));

export const schemaJson = z.object({
  type: z.literal('struct'),
  'schema-id': z.number().int().optional(),
  'identifier-field-ids': z.array(z.number().int()).optional(),
  fields: z.array(fieldJson),
});

/**
 * Builds a Schema from its JSON form (spec Appendix C: `{ type: 'struct', fields: [{ id, name,
 * required, type }] }`, types as strings such as `long`, `timestamptz`, `decimal(10,2)`, or
 * nested `struct`/`list`/`map` objects; `identifier-field-ids` for a key). With `assignIds`,
 * ids in the JSON may be left out and are given fresh, depth-first (a column before its
 * children), as `floe table create` does.
 *
 * @throws {@link ValidationError} naming the bad field (unknown type, missing id, duplicate name,
 * an identifier field that is optional or not a primitive).
 * @example
 * ```ts
 * const schema = schemaFromJson({
 *   type: 'struct',
 *   'identifier-field-ids': [1],
 *   fields: [
 *     { id: 1, name: 'id', type: 'long', required: true },
 *     { id: 2, name: 'amount', type: 'decimal(10,2)', required: false },
 *   ],
 * }, { assignIds: true });
 * ```
 */
export function schemaFromJson(json: unknown, opts: { assignIds?: boolean; schemaId?: number } = {}): Schema {
  // A person's mistake first, as one line naming the field path; zod stays the backstop.
  const problem = schemaJsonProblem(json);
  if (problem) throw new ValidationError(`invalid schema: ${problem}`);
  const parsed = schemaJson.safeParse(json);
  if (!parsed.success) throw new ValidationError(`invalid schema: ${formatZodIssue(parsed.error)}`);
  const doc = parsed.data;
  let nextId = 1;
  const takeId = (given: number | undefined, what: string): number => {
    if (opts.assignIds) return nextId++;
    if (given === undefined) throw new ValidationError(`invalid schema: ${what} has no id (ids are required unless fresh ids are assigned)`);
    return given;
  };
  const convertType = (t: TypeJson, path: string): IcebergType => {
    if (typeof t === 'string') {
      const p = parsePrimitive(t);
      if (!p) throw new ValidationError(`invalid schema: field "${path}" has unknown type "${t}"`);
      return p;
    }
    if (t.type === 'struct') return { kind: 'struct', fields: convertFields(t.fields, `${path}.`) };
    if (t.type === 'list') {
      const elementId = takeId(t['element-id'], `list '${path}' element`);
      return { kind: 'list', elementId, elementRequired: t['element-required'], element: convertType(t.element, `${path}.element`) };
    }
    const keyId = takeId(t['key-id'], `map '${path}' key`);
    const valueId = takeId(t['value-id'], `map '${path}' value`);
    return {
      kind: 'map', keyId, key: convertType(t.key, `${path}.key`),
      valueId, valueRequired: t['value-required'], value: convertType(t.value, `${path}.value`),
    };
  };
  // Ids of one struct's fields are assigned before their children's (Java's TypeUtil.assignFreshIds order).
  const convertFields = (fields: FieldJson[], prefix: string): NestedField[] => {
    const ids = fields.map((f) => takeId(f.id, `field '${prefix}${f.name}'`));
    return fields.map((f, i) => ({
      id: ids[i]!, name: f.name, required: f.required,
      type: convertType(f.type, prefix + f.name),
      ...(f.doc !== undefined ? { doc: f.doc } : {}),
    }));
  };
  const fields = convertFields(doc.fields, '');
  let identifierIds = doc['identifier-field-ids'] ?? [];
  if (opts.assignIds && identifierIds.length > 0) {
    // Identifier ids refer to the JSON's own ids; map them to the fresh ones by position.
    const oldToNew = new Map<number, number>();
    const mapIds = (oldFields: FieldJson[], newFields: NestedField[]): void => {
      oldFields.forEach((f, i) => {
        const nf = newFields[i]!;
        if (f.id !== undefined) oldToNew.set(f.id, nf.id);
        if (typeof f.type !== 'string' && f.type.type === 'struct' && nf.type.kind === 'struct') mapIds(f.type.fields, [...nf.type.fields]);
      });
    };
    mapIds(doc.fields, fields);
    identifierIds = identifierIds.map((id) => {
      const n = oldToNew.get(id);
      if (n === undefined) throw new ValidationError(`invalid schema: identifier-field-ids names unknown field id ${id}`);
      return n;
    });
  }
  const schema = new Schema(opts.schemaId ?? doc['schema-id'] ?? 0, fields, identifierIds);
  validateIdentifierFields(schema);
  return schema;
}

/** The schema's JSON form (spec Appendix C), as stored in table metadata. */
export function schemaToJson(schema: Schema): Record<string, unknown> {
  const typeToJson = (t: IcebergType): unknown => {
    if (isPrimitive(t)) return primitiveToString(t as PrimitiveType);
    if (t.kind === 'struct') return { type: 'struct', fields: t.fields.map(fieldToJson) };
    if (t.kind === 'list') return { type: 'list', 'element-id': t.elementId, element: typeToJson(t.element), 'element-required': t.elementRequired };
    return {
      type: 'map', 'key-id': t.keyId, key: typeToJson(t.key),
      'value-id': t.valueId, value: typeToJson(t.value), 'value-required': t.valueRequired,
    };
  };
  const fieldToJson = (f: NestedField): unknown => ({
    id: f.id, name: f.name, required: f.required, type: typeToJson(f.type),
    ...(f.doc !== undefined ? { doc: f.doc } : {}),
  });
  return {
    type: 'struct',
    'schema-id': schema.schemaId,
    ...(schema.identifierFieldIds.length > 0 ? { 'identifier-field-ids': [...schema.identifierFieldIds] } : {}),
    fields: schema.fields.map(fieldToJson),
  };
}

/** Spec: identifier fields are required primitives, not float/double, not inside a list,
 * map or optional struct. */
function validateIdentifierFields(schema: Schema): void {
  for (const id of schema.identifierFieldIds) {
    const f = schema.findField(id);
    if (!f) throw new ValidationError(`invalid schema: identifier field id ${id} does not exist`);
    const name = schema.findColumnName(id);
    if (!isPrimitive(f.type)) throw new ValidationError(`invalid schema: identifier field '${name}' must be a primitive type`);
    if (f.type.kind === 'float' || f.type.kind === 'double') throw new ValidationError(`invalid schema: identifier field '${name}' cannot be ${f.type.kind}`);
    if (!f.required) throw new ValidationError(`invalid schema: identifier field '${name}' must be required`);
    for (const anc of schema.ancestorIds(id)) {
      const a = schema.findField(anc)!;
      if (a.type.kind !== 'struct' || !a.required) {
        throw new ValidationError(`invalid schema: identifier field '${name}' cannot be nested in a list, map or optional struct`);
      }
    }
  }
}

export function formatZodIssue(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'unknown problem';
  const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`;
}
