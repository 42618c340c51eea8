// Avro binary encoding (Avro spec "Binary Encoding") driven by a raw JSON schema: the subset
// Iceberg metadata files use — null, boolean, int, long, float, double, bytes, string, fixed,
// enum, record, array, map (string keys) and unions — with every long as a BigInt.
//
// Written by hand rather than on avsc because (1) avsc's default `long` throws above 2^53 and
// its BigInt override is not applied when a raw schema is re-parsed for a container file,
// (2) avsc's Type drops `field-id` / `element-id` attributes, so the schema we compile could
// drift from the JSON we put in the header, and (3) the Iceberg subset is small enough that a
// compiled closure tree is both shorter and faster than adapting avsc's hooks.
//
// Value forms: null → null; boolean; int/float/double → number; long → bigint;
// bytes/fixed → Uint8Array; string/enum → string; record → plain object keyed by field name;
// array → array; map → Map<string, T> (a plain object is also accepted when writing);
// union → the bare value of the chosen branch. Logical types are carried as their underlying
// Avro type; converting them is the caller's job (see manifest-schemas.ts).
import { DecodingError, ValidationError } from '../../errors.ts';

/** A raw Avro schema as JSON: a type name, a union array, or a type object. */
export type AvroSchemaJson = string | readonly AvroSchemaJson[] | AvroSchemaObject;
export interface AvroSchemaObject {
  readonly type: AvroSchemaJson;
  readonly [attribute: string]: unknown;
}

export interface AvroCodec {
  readonly kind: string;
  write(writer: AvroWriter, value: unknown): void;
  read(reader: AvroReader): unknown;
  /** Whether `value` has the shape of this type; unions use it to pick a branch. */
  accepts(value: unknown): boolean;
}

/** A value that does not fit the Avro schema being written; `path` names the field. */
export class AvroEncodingError extends ValidationError {
  constructor(
    readonly path: readonly string[],
    readonly detail: string,
  ) {
    super(path.length > 0 ? `${path.join('.')}: ${detail}` : detail);
    this.name = 'AvroEncodingError';
  }
}

/** Avro bytes that do not decode; the reader of a named file wraps it (InvalidMetadataError). */
export class AvroDecodingError extends DecodingError {
  constructor(message: string) {
    super(message);
    this.name = 'AvroDecodingError';
  }
}

const TWO_POW_52 = 2n ** 52n;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Growable output buffer with Avro's primitive encodings. */
export class AvroWriter {
  private buffer: Buffer;
  private view: DataView;
  position = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialCapacity);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  private ensure(extra: number): void {
    const needed = this.position + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  /** Copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return new Uint8Array(this.buffer.subarray(0, this.position));
  }

  /** View of the bytes written so far; valid until the next write or reset. */
  bytesView(): Uint8Array {
    return this.buffer.subarray(0, this.position);
  }

  reset(): void {
    this.position = 0;
  }

  writeBoolean(value: boolean): void {
    this.ensure(1);
    this.buffer[this.position++] = value ? 1 : 0;
  }

  writeInt(value: number): void {
    this.ensure(5);
    let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
    while (zigzag > 0x7f) {
      this.buffer[this.position++] = (zigzag & 0x7f) | 0x80;
      zigzag >>>= 7;
    }
    this.buffer[this.position++] = zigzag;
  }

  writeLong(value: bigint): void {
    if (value >= -TWO_POW_52 && value < TWO_POW_52) {
      this.writeSafeLong(Number(value));
      return;
    }
    this.ensure(10);
    let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    while (zigzag > 0x7fn) {
      this.buffer[this.position++] = Number(zigzag & 0x7fn) | 0x80;
      zigzag >>= 7n;
    }
    this.buffer[this.position++] = Number(zigzag);
  }

  /** A long known to be a safe integer (lengths, counts): no BigInt round trip. */
  writeSafeLong(value: number): void {
    this.ensure(10);
    // |value| < 2^52 keeps the zigzag value below 2^53, where doubles are exact.
    let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
    while (zigzag > 0x7f) {
      this.buffer[this.position++] = (zigzag % 128) | 0x80;
      zigzag = Math.floor(zigzag / 128);
    }
    this.buffer[this.position++] = zigzag;
  }

  writeFloat(value: number): void {
    this.ensure(4);
    this.view.setFloat32(this.position, value, true);
    this.position += 4;
  }

  writeDouble(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.position, value, true);
    this.position += 8;
  }

  writeFixed(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.position);
    this.position += bytes.length;
  }

  writeBytes(bytes: Uint8Array): void {
    this.writeSafeLong(bytes.length);
    this.writeFixed(bytes);
  }

  writeString(value: string): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.writeSafeLong(length);
    this.ensure(length);
    this.buffer.write(value, this.position, length, 'utf8');
    this.position += length;
  }
}

/** Cursor over Avro-encoded bytes. */
export class AvroReader {
  /** Plain Uint8Array view: its slice() copies, unlike Buffer's. */
  private readonly bytes: Uint8Array;
  private readonly buffer: Buffer;
  private readonly view: DataView;
  position: number;
  readonly end: number;
  private readonly shareBytes: boolean;

  /**
   * @param shareBytes decoded bytes/fixed values become views into `bytes` instead of
   *   copies. Only for buffers the caller owns exclusively (a decompressed block): a
   *   100,000-entry manifest holds millions of bounds, and a separate ArrayBuffer for each
   *   roughly doubles decode time through allocation and GC.
   */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length, shareBytes = false) {
    this.shareBytes = shareBytes;
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = start;
    this.end = end;
  }

  private need(count: number): void {
    if (this.position + count > this.end) {
      throw new AvroDecodingError(`unexpected end of Avro data at byte ${this.position} (needed ${count} more)`);
    }
  }

  private nextByte(): number {
    if (this.position >= this.end) {
      throw new AvroDecodingError(`unexpected end of Avro data at byte ${this.position}`);
    }
    return this.buffer[this.position++] as number;
  }

  readBoolean(): boolean {
    return this.nextByte() !== 0;
  }

  readInt(): number {
    let zigzag = 0;
    let shift = 0;
    let byte: number;
    do {
      if (shift > 28) throw new AvroDecodingError(`Avro int varint too long at byte ${this.position}`);
      byte = this.nextByte();
      zigzag |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return (zigzag >>> 1) ^ -(zigzag & 1);
  }

  readLong(): bigint {
    // Gather up to 7 groups (49 bits) as a double, which is exact; switch to BigInt beyond.
    let zigzag = 0;
    let scale = 1;
    let byte: number;
    for (let group = 0; group < 7; group++) {
      byte = this.nextByte();
      zigzag += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        return BigInt(zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2);
      }
      scale *= 128;
    }
    let big = BigInt(zigzag);
    let shift = 49n;
    do {
      if (shift > 63n) throw new AvroDecodingError(`Avro long varint too long at byte ${this.position}`);
      byte = this.nextByte();
      big |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
    } while (byte & 0x80);
    big = BigInt.asUintN(64, big);
    return BigInt.asIntN(64, (big >> 1n) ^ -(big & 1n));
  }

  /** A long used as a length or count; must be a safe integer. */
  readSafeLong(): number {
    const start = this.position;
    let zigzag = 0;
    let scale = 1;
    for (let group = 0; group < 7; group++) {
      const byte = this.nextByte();
      zigzag += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
      scale *= 128;
    }
    this.position = start;
    const value = this.readLong();
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new AvroDecodingError(`Avro length/count ${value} out of range at byte ${start}`);
    }
    return Number(value);
  }

  readFloat(): number {
    this.need(4);
    const value = this.view.getFloat32(this.position, true);
    this.position += 4;
    return value;
  }

  readDouble(): number {
    this.need(8);
    const value = this.view.getFloat64(this.position, true);
    this.position += 8;
    return value;
  }

  readFixed(size: number): Uint8Array {
    this.need(size);
    // A copy unless shared, so decoded values never alias a buffer the caller still uses.
    const out = this.shareBytes
      ? this.bytes.subarray(this.position, this.position + size)
      : this.bytes.slice(this.position, this.position + size);
    this.position += size;
    return out;
  }

  readBytes(): Uint8Array {
    const length = this.readSafeLong();
    if (length < 0) throw new AvroDecodingError(`negative Avro bytes length at byte ${this.position}`);
    return this.readFixed(length);
  }

  readString(): string {
    const length = this.readSafeLong();
    if (length < 0) throw new AvroDecodingError(`negative Avro string length at byte ${this.position}`);
    this.need(length);
    const value = this.buffer.toString('utf8', this.position, this.position + length);
    this.position += length;
    return value;
  }
}

const PRIMITIVE_NAMES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

interface CompileContext {
  readonly names: Map<string, AvroCodec>;
  readonly namespace: string;
}

/** Compiles a raw JSON schema into an encoder/decoder. Named types may be referenced by name
 * after their definition (Java's Avro writes repeated fixed types that way). */
export function compileAvroSchema(schema: AvroSchemaJson): AvroCodec {
  return compile(schema, { names: new Map(), namespace: '' });
}

/** Every named type (record, enum, fixed) in `schema`, by full name and by short name. */
export function collectNamedTypes(schema: AvroSchemaJson): Map<string, AvroSchemaObject> {
  const found = new Map<string, AvroSchemaObject>();
  const visit = (node: AvroSchemaJson, namespace: string): void => {
    if (typeof node === 'string') return;
    if (Array.isArray(node)) {
      for (const branch of node as readonly AvroSchemaJson[]) visit(branch, namespace);
      return;
    }
    const object = node as AvroSchemaObject;
    const type = object.type;
    if (typeof type !== 'string') {
      visit(type, namespace);
      return;
    }
    if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed') {
      const { fullName, childNamespace } = nameOf(object, namespace);
      found.set(fullName, object);
      const shortName = fullName.slice(fullName.lastIndexOf('.') + 1);
      if (!found.has(shortName)) found.set(shortName, object);
      if (type === 'record' || type === 'error') {
        for (const field of recordFields(object)) visit(field.type, childNamespace);
      }
    } else if (type === 'array') {
      visit(object.items as AvroSchemaJson, namespace);
    } else if (type === 'map') {
      visit(object.values as AvroSchemaJson, namespace);
    }
  };
  visit(schema, '');
  return found;
}

/** Resolves a schema node to its definition: follows name references and `{type: {...}}`
 * wrappers; leaves primitives and unions as they are. */
export function resolveSchemaNode(
  node: AvroSchemaJson,
  named: ReadonlyMap<string, AvroSchemaObject>,
): AvroSchemaJson {
  let current = node;
  for (;;) {
    if (typeof current === 'string') {
      if (PRIMITIVE_NAMES.has(current)) return current;
      const definition = named.get(current);
      if (definition === undefined) throw new AvroDecodingError(`unknown Avro type name "${current}"`);
      return definition;
    }
    if (Array.isArray(current)) return current;
    const object = current as AvroSchemaObject;
    if (typeof object.type === 'object' && object.type !== null) {
      current = object.type;
      continue;
    }
    return object;
  }
}

export interface AvroFieldJson {
  readonly name: string;
  readonly type: AvroSchemaJson;
  readonly default?: unknown;
  readonly [attribute: string]: unknown;
}

export function recordFields(record: AvroSchemaObject): readonly AvroFieldJson[] {
  const fields = record.fields;
  if (!Array.isArray(fields)) throw new AvroDecodingError(`Avro record ${String(record.name)} has no fields array`);
  return fields as readonly AvroFieldJson[];
}

function nameOf(object: AvroSchemaObject, namespace: string): { fullName: string; childNamespace: string } {
  const name = object.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new AvroDecodingError(`Avro ${String(object.type)} type needs a name`);
  }
  if (name.includes('.')) return { fullName: name, childNamespace: name.slice(0, name.lastIndexOf('.')) };
  const ns = typeof object.namespace === 'string' ? object.namespace : namespace;
  return { fullName: ns ? `${ns}.${name}` : name, childNamespace: ns };
}

function compile(schema: AvroSchemaJson, context: CompileContext): AvroCodec {
  if (typeof schema === 'string') {
    if (PRIMITIVE_NAMES.has(schema)) return primitiveCodec(schema);
    const codec =
      (context.namespace ? context.names.get(`${context.namespace}.${schema}`) : undefined) ??
      context.names.get(schema);
    if (codec === undefined) throw new AvroDecodingError(`unknown Avro type name "${schema}"`);
    return codec;
  }
  if (Array.isArray(schema)) {
    return unionCodec((schema as readonly AvroSchemaJson[]).map((branch) => compile(branch, context)));
  }
  const object = schema as AvroSchemaObject;
  const type = object.type;
  if (typeof type !== 'string') return compile(type, context);
  switch (type) {
    case 'record':
    case 'error':
      return recordCodec(object, context);
    case 'enum': {
      const { fullName } = nameOf(object, context.namespace);
      const codec = enumCodec(object);
      context.names.set(fullName, codec);
      return codec;
    }
    case 'fixed': {
      const { fullName } = nameOf(object, context.namespace);
      const size = object.size;
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
        throw new AvroDecodingError(`Avro fixed ${fullName} has invalid size ${String(size)}`);
      }
      const codec = fixedCodec(size);
      context.names.set(fullName, codec);
      return codec;
    }
    case 'array': {
      const items = compile(object.items as AvroSchemaJson, context);
      if (object.logicalType === 'map' && isKeyValueRecord(items)) {
        return keyValueMapCodec(items.fields[0]!.codec, items.fields[1]!.codec);
      }
      return arrayCodec(items);
    }
    case 'map':
      return mapCodec(compile(object.values as AvroSchemaJson, context));
    default:
      // `{"type": "long", "logicalType": ...}` and friends.
      return compile(type, context);
  }
}

function isKeyValueRecord(codec: AvroCodec): codec is RecordCodec {
  const fields = (codec as Partial<RecordCodec>).fields;
  return codec.kind === 'record' && fields !== undefined && fields.length === 2 &&
    fields[0]!.name === 'key' && fields[1]!.name === 'value';
}

function fail(detail: string): never {
  throw new AvroEncodingError([], detail);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return 'Uint8Array';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Map) return 'Map';
  return typeof value;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array) && !(value instanceof Map)
  );
}

const nullCodec: AvroCodec = {
  kind: 'null',
  write(_writer, value) {
    if (value !== null && value !== undefined) fail(`expected null, got ${describe(value)}`);
  },
  read: () => null,
  accepts: (value) => value === null || value === undefined,
};

const booleanCodec: AvroCodec = {
  kind: 'boolean',
  write(writer, value) {
    if (typeof value !== 'boolean') fail(`expected boolean, got ${describe(value)}`);
    writer.writeBoolean(value);
  },
  read: (reader) => reader.readBoolean(),
  accepts: (value) => typeof value === 'boolean',
};

const intCodec: AvroCodec = {
  kind: 'int',
  write(writer, value) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
      fail(`expected 32-bit integer, got ${typeof value === 'number' ? value : describe(value)}`);
    }
    writer.writeInt(value);
  },
  read: (reader) => reader.readInt(),
  accepts: (value) => typeof value === 'number' && Number.isInteger(value),
};

/** Avro arrays and maps come in blocks: a count (negative: followed by the block's byte
 * size, only useful for skipping), its items, and a zero count at the end. */
function readBlocks(reader: AvroReader, readItem: () => void): void {
  for (;;) {
    let count = reader.readSafeLong();
    if (count === 0) return;
    if (count < 0) {
      count = -count;
      reader.readSafeLong();
    }
    for (let i = 0; i < count; i++) readItem();
  }
}

const longCodec: AvroCodec = {
  kind: 'long',
  write(writer, value) {
    // A number here would mean a 64-bit value already went through a double somewhere.
    if (typeof value !== 'bigint') fail(`expected bigint for Avro long, got ${describe(value)}`);
    if (value !== BigInt.asIntN(64, value)) fail(`long ${value} does not fit in 64 bits`);
    writer.writeLong(value);
  },
  read: (reader) => reader.readLong(),
  accepts: (value) => typeof value === 'bigint',
};

const floatCodec: AvroCodec = {
  kind: 'float',
  write(writer, value) {
    if (typeof value !== 'number') fail(`expected number, got ${describe(value)}`);
    writer.writeFloat(value);
  },
  read: (reader) => reader.readFloat(),
  accepts: (value) => typeof value === 'number',
};

const doubleCodec: AvroCodec = {
  kind: 'double',
  write(writer, value) {
    if (typeof value !== 'number') fail(`expected number, got ${describe(value)}`);
    writer.writeDouble(value);
  },
  read: (reader) => reader.readDouble(),
  accepts: (value) => typeof value === 'number',
};

const bytesCodec: AvroCodec = {
  kind: 'bytes',
  write(writer, value) {
    if (!(value instanceof Uint8Array)) fail(`expected Uint8Array, got ${describe(value)}`);
    writer.writeBytes(value);
  },
  read: (reader) => reader.readBytes(),
  accepts: (value) => value instanceof Uint8Array,
};

const stringCodec: AvroCodec = {
  kind: 'string',
  write(writer, value) {
    if (typeof value !== 'string') fail(`expected string, got ${describe(value)}`);
    writer.writeString(value);
  },
  read: (reader) => reader.readString(),
  accepts: (value) => typeof value === 'string',
};

function primitiveCodec(name: string): AvroCodec {
  switch (name) {
    case 'null': return nullCodec;
    case 'boolean': return booleanCodec;
    case 'int': return intCodec;
    case 'long': return longCodec;
    case 'float': return floatCodec;
    case 'double': return doubleCodec;
    case 'bytes': return bytesCodec;
    case 'string': return stringCodec;
    default: throw new AvroDecodingError(`unknown Avro primitive "${name}"`);
  }
}

function fixedCodec(size: number): AvroCodec {
  return {
    kind: 'fixed',
    write(writer, value) {
      if (!(value instanceof Uint8Array)) fail(`expected Uint8Array of ${size} bytes, got ${describe(value)}`);
      if (value.length !== size) fail(`expected ${size} bytes for fixed, got ${value.length}`);
      writer.writeFixed(value);
    },
    read: (reader) => reader.readFixed(size),
    accepts: (value) => value instanceof Uint8Array && value.length === size,
  };
}

function enumCodec(object: AvroSchemaObject): AvroCodec {
  const symbols = object.symbols;
  if (!Array.isArray(symbols) || !symbols.every((s) => typeof s === 'string')) {
    throw new AvroDecodingError(`Avro enum ${String(object.name)} needs string symbols`);
  }
  const indexes = new Map<string, number>(symbols.map((s: string, i) => [s, i]));
  return {
    kind: 'enum',
    write(writer, value) {
      const index = typeof value === 'string' ? indexes.get(value) : undefined;
      if (index === undefined) fail(`expected one of ${symbols.join(', ')}, got ${String(value)}`);
      writer.writeInt(index);
    },
    read(reader) {
      const index = reader.readInt();
      const symbol = symbols[index] as string | undefined;
      if (symbol === undefined) throw new AvroDecodingError(`enum index ${index} out of range`);
      return symbol;
    },
    accepts: (value) => typeof value === 'string' && indexes.has(value),
  };
}

function withPath<T>(segment: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof AvroEncodingError) throw new AvroEncodingError([segment, ...error.path], error.detail);
    throw error;
  }
}

function arrayCodec(items: AvroCodec): AvroCodec {
  return {
    kind: 'array',
    write(writer, value) {
      if (!Array.isArray(value)) fail(`expected array, got ${describe(value)}`);
      const length = value.length;
      if (length > 0) {
        writer.writeSafeLong(length);
        for (let i = 0; i < length; i++) {
          const item: unknown = value[i];
          try {
            items.write(writer, item);
          } catch (error) {
            if (error instanceof AvroEncodingError) throw new AvroEncodingError([`[${i}]`, ...error.path], error.detail);
            throw error;
          }
        }
      }
      writer.writeSafeLong(0);
    },
    read(reader) {
      const out: unknown[] = [];
      readBlocks(reader, () => out.push(items.read(reader)));
      return out;
    },
    accepts: (value) => Array.isArray(value),
  };
}

function mapCodec(values: AvroCodec): AvroCodec {
  return {
    kind: 'map',
    write(writer, value) {
      let entries: [unknown, unknown][];
      if (value instanceof Map) entries = [...(value as Map<unknown, unknown>).entries()];
      else if (isPlainRecord(value)) entries = Object.entries(value);
      else fail(`expected Map or object, got ${describe(value)}`);
      if (entries.length > 0) {
        writer.writeSafeLong(entries.length);
        for (const [key, item] of entries) {
          if (typeof key !== 'string') fail(`Avro map keys must be strings, got ${describe(key)}`);
          writer.writeString(key);
          withPath(key, () => values.write(writer, item));
        }
      }
      writer.writeSafeLong(0);
    },
    read(reader) {
      const out = new Map<string, unknown>();
      readBlocks(reader, () => {
        const key = reader.readString();
        out.set(key, values.read(reader));
      });
      return out;
    },
    accepts: (value) => value instanceof Map || isPlainRecord(value),
  };
}

function unionCodec(branches: readonly AvroCodec[]): AvroCodec {
  if (branches.length === 0) throw new AvroDecodingError('Avro union needs at least one branch');
  const nullIndex = branches.findIndex((b) => b.kind === 'null');
  const describeBranches = branches.map((b) => b.kind).join(' | ');
  if (branches.length === 2 && nullIndex >= 0) {
    // ["null", T] — every optional field in Iceberg metadata.
    const valueIndex = 1 - nullIndex;
    const valueCodec = branches[valueIndex] as AvroCodec;
    return {
      kind: 'union',
      write(writer, value) {
        if (value === null || value === undefined) {
          writer.writeInt(nullIndex);
        } else {
          writer.writeInt(valueIndex);
          valueCodec.write(writer, value);
        }
      },
      read(reader) {
        const index = reader.readInt();
        if (index === nullIndex) return null;
        if (index !== valueIndex) throw new AvroDecodingError(`union index ${index} out of range for ${describeBranches}`);
        return valueCodec.read(reader);
      },
      accepts: (value) => value === null || value === undefined || valueCodec.accepts(value),
    };
  }
  return {
    kind: 'union',
    write(writer, value) {
      const index = branches.findIndex((b) => b.accepts(value));
      if (index < 0) fail(`no branch of ${describeBranches} accepts ${describe(value)}`);
      writer.writeInt(index);
      (branches[index] as AvroCodec).write(writer, value);
    },
    read(reader) {
      const index = reader.readInt();
      const branch = branches[index];
      if (branch === undefined) throw new AvroDecodingError(`union index ${index} out of range for ${describeBranches}`);
      return branch.read(reader);
    },
    accepts: (value) => branches.some((b) => b.accepts(value)),
  };
}

interface CompiledField {
  readonly name: string;
  readonly codec: AvroCodec;
}

interface RecordCodec extends AvroCodec {
  readonly fields: readonly CompiledField[];
}

type ReadFunction = (reader: AvroReader) => unknown;
type WriteFunction = (writer: AvroWriter, value: Record<string, unknown>) => void;

/**
 * Records are the hot path (100,000-entry manifests), so their readers and writers are
 * generated once per schema: an object literal with constant keys gives every decoded record
 * the same hidden class, and straight-line field access avoids keyed lookups. Field names are
 * embedded with JSON.stringify, so no schema text can inject code.
 */
function generateRecordFunctions(
  fields: readonly CompiledField[],
  onError: (error: unknown, index: number, value: Record<string, unknown>) => never,
): { read: ReadFunction; write: WriteFunction } | null {
  // `{"__proto__": x}` in a literal sets the prototype; fall back to the generic loop.
  if (fields.some((field) => field.name === '__proto__')) return null;
  const codecs = fields.map((field) => field.codec);
  const bind = fields.map((_, i) => `const c${i} = c[${i}];`).join('\n');
  const readBody = fields.map((field, i) => `${JSON.stringify(field.name)}: c${i}.read(r)`).join(',\n');
  const writeBody = fields.map((field, i) => `i = ${i}; c${i}.write(w, v[${JSON.stringify(field.name)}]);`).join('\n');
  const read = new Function('c', `${bind}\nreturn function readRecord(r) { return {\n${readBody}\n}; };`)(codecs) as ReadFunction;
  const write = new Function('c', 'onError', `${bind}\nreturn function writeRecord(w, v) {
  let i = -1;
  try {
${writeBody}
  } catch (error) { onError(error, i, v); }
};`)(codecs, onError) as WriteFunction;
  return { read, write };
}

function recordCodec(object: AvroSchemaObject, context: CompileContext): RecordCodec {
  const { fullName, childNamespace } = nameOf(object, context.namespace);
  const fields: CompiledField[] = [];
  const rethrowWithPath = (error: unknown, index: number, value: Record<string, unknown>): never => {
    const field = fields[index];
    if (!(error instanceof AvroEncodingError) || field === undefined) throw error;
    const detail = value[field.name] === undefined && error.path.length === 0
      ? `missing required field of record ${fullName} (${error.detail})`
      : error.detail;
    throw new AvroEncodingError([field.name, ...error.path], detail);
  };
  let readFields: ReadFunction = (reader) => {
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      // defineProperty: a field named __proto__ must become data, not a prototype.
      Object.defineProperty(out, field.name, { value: field.codec.read(reader), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  let writeFields: WriteFunction = (writer, value) => {
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as CompiledField;
      try {
        field.codec.write(writer, value[field.name]);
      } catch (error) {
        rethrowWithPath(error, i, value);
      }
    }
  };
  const codec: RecordCodec = {
    kind: 'record',
    fields,
    write(writer, value) {
      if (!isPlainRecord(value)) fail(`expected object for record ${fullName}, got ${describe(value)}`);
      writeFields(writer, value);
    },
    // Indirect: a recursive schema may call this before the generated reader exists.
    read: (reader) => readFields(reader),
    accepts: isPlainRecord,
  };
  // Register before compiling fields so a recursive reference resolves to this codec.
  context.names.set(fullName, codec);
  const fieldContext: CompileContext = { names: context.names, namespace: childNamespace };
  for (const field of recordFields(object)) {
    if (typeof field.name !== 'string') throw new AvroDecodingError(`record ${fullName} has a field without a name`);
    fields.push({ name: field.name, codec: compile(field.type, fieldContext) });
  }
  const generated = generateRecordFunctions(fields, rethrowWithPath);
  if (generated !== null) {
    readFields = generated.read;
    writeFields = generated.write;
  }
  return codec;
}

/**
 * Iceberg's map<K, V> with non-string keys: an Avro array of `{key, value}` records tagged
 * `logicalType: "map"` (spec Appendix A). Decoded straight into a Map<K, V> — the form the
 * metrics maps have in memory — and written from a Map (or an array of {key, value}).
 */
function keyValueMapCodec(keys: AvroCodec, values: AvroCodec): AvroCodec {
  const writePair = (writer: AvroWriter, key: unknown, value: unknown): void => {
    withPath('key', () => keys.write(writer, key));
    withPath(String(key), () => values.write(writer, value));
  };
  return {
    kind: 'array',
    write(writer, value) {
      if (value instanceof Map) {
        const map = value as Map<unknown, unknown>;
        if (map.size > 0) {
          writer.writeSafeLong(map.size);
          for (const [key, item] of map) writePair(writer, key, item);
        }
      } else if (Array.isArray(value)) {
        if (value.length > 0) {
          writer.writeSafeLong(value.length);
          for (const pair of value as unknown[]) {
            if (!isPlainRecord(pair)) fail(`expected {key, value} record, got ${describe(pair)}`);
            writePair(writer, pair.key, pair.value);
          }
        }
      } else {
        fail(`expected Map for Iceberg map, got ${describe(value)}`);
      }
      writer.writeSafeLong(0);
    },
    read(reader) {
      const out = new Map<unknown, unknown>();
      readBlocks(reader, () => {
        const key = keys.read(reader);
        out.set(key, values.read(reader));
      });
      return out;
    },
    accepts: (value) => value instanceof Map || Array.isArray(value),
  };
}

/** Encodes one value to a standalone byte array. */
export function encodeAvroValue(codec: AvroCodec, value: unknown): Uint8Array {
  const writer = new AvroWriter(256);
  codec.write(writer, value);
  return writer.toBytes();
}

/** Decodes one value that must span all of `bytes`. */
export function decodeAvroValue(codec: AvroCodec, bytes: Uint8Array): unknown {
  const reader = new AvroReader(bytes);
  const value = codec.read(reader);
  if (reader.position !== reader.end) {
    throw new AvroDecodingError(`${reader.end - reader.position} trailing bytes after Avro value`);
  }
  return value;
}
