// The ingest fuzz's records (test/integration/ingest-fuzz.test.ts, and the converted-batch
// attack test that compares both ingest paths on them): a table with every Iceberg type, nested
// struct/list/map, and seeded NDJSON lines — valid, mutated with wrong types, huge ints, deep
// nesting, odd unicode, missing or extra fields, bad arrays and maps, or broken JSON.
import { schemaFromJson } from '../../src/spec/schema.ts';

export const FUZZ_SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'req', required: true, type: 'string' },
  { name: 'b', required: false, type: 'boolean' },
  { name: 'i', required: false, type: 'int' },
  { name: 'l', required: false, type: 'long' },
  { name: 'f', required: false, type: 'float' },
  { name: 'd', required: false, type: 'double' },
  { name: 'dec', required: false, type: 'decimal(10,3)' },
  { name: 'dec38', required: false, type: 'decimal(38,10)' },
  { name: 'dt', required: false, type: 'date' },
  { name: 'tm', required: false, type: 'time' },
  { name: 'ts', required: false, type: 'timestamp' },
  { name: 'tstz', required: false, type: 'timestamptz' },
  { name: 's', required: false, type: 'string' },
  { name: 'u', required: false, type: 'uuid' },
  { name: 'fx', required: false, type: 'fixed[4]' },
  { name: 'bin', required: false, type: 'binary' },
  { name: 'st', required: false, type: { type: 'struct', fields: [
    { name: 'a', required: true, type: 'int' },
    { name: 'inner', required: false, type: { type: 'struct', fields: [
      { name: 'x', required: false, type: 'string' },
      { name: 'y', required: false, type: { type: 'list', 'element-required': false, element: 'double' } },
    ] } },
  ] } },
  { name: 'ls', required: false, type: { type: 'list', 'element-required': true, element: 'long' } },
  { name: 'lst', required: false, type: { type: 'list', 'element-required': false, element: { type: 'struct', fields: [
    { name: 'k', required: true, type: 'string' },
    { name: 'v', required: false, type: 'decimal(5,2)' },
  ] } } },
  { name: 'mp', required: false, type: { type: 'map', key: 'string', 'value-required': false, value: 'int' } },
  { name: 'mpl', required: false, type: { type: 'map', key: 'int', 'value-required': false, value: { type: 'list', 'element-required': false, element: 'string' } } },
] }, { assignIds: true });


/** A JSON literal written as is (numbers JS cannot hold, broken text). */
class Raw { constructor(readonly text: string) {} }

function toJson(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

const nest = (depth: number, open: string, close: string, inner: string): Raw => new Raw(open.repeat(depth) + inner + close.repeat(depth));

const WEIRD: unknown[] = [
  null, true, false, 0, -0, new Raw('-0.0'), 1, -1, 1.5, 2 ** 31, -(2 ** 31) - 1, new Raw('9007199254740993'),
  new Raw('9223372036854775807'), new Raw('9223372036854775808'), new Raw('-9223372036854775809'), new Raw('18446744073709551616'),
  new Raw('123456789012345678901234567890123456789012'), new Raw('1e308'), new Raw('-1.7976931348623157e308'), new Raw('1e309'), new Raw('-1e400'),
  // biome-ignore lint/correctness/noPrecisionLoss: the fuzz input includes a JS number beyond 2^53 on purpose
  new Raw('3.4028235e38'), new Raw('3.5e38'), new Raw('1e-320'), new Raw('0.21432741417924794'), new Raw('1E2'), 1700000000000, 9223372036854775,
  '', ' ', '\t', 'NaN', 'nan', 'Infinity', '-Infinity', 'null', 'true', '1e5', ' 12 ', '12', '-12', '0x10', 'abc', '1.00', ' 1.00', '-0.001', '1e3',
  '\ud800', 'x\udc00', '\ud83d\ude00', '\u0000', 'é', 'e\u0301', '\u202e', '\ufeff', '\uffff', 'x'.repeat(5000), '9'.repeat(400),
  '2026-01-01T00:00:00+25:00', '2026-01-01T00:00:00+18:00', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00', '2026-13-01T00:00:00', '+999999-01-01T00:00:00', '+250000-01-01T00:00:00Z', '-250000-01-01T00:00:00Z',
  '2026-02-29', '2024-02-29', '24:00:00', '23:59:59.9999999', '23:59:60', '12:00', '2026-01-01', '2026-01-01 00:00:00.123456789',
  'f79c3e09-677c-4bbd-a479-3f349cb785e7', 'f79c3e09677c4bbda4793f349cb785e7', 'not-a-uuid', 'AAAA', 'AAAAAA==', 'AAAAAA=', '====', 'AA==',
  [], [1, 2], ['a'], [['k', 1, 2]], [['a', 1], ['a', 2]], [[1, ['x']], ['1', ['y']]], [null], [[null, 1]], {}, { a: 1 }, { k: 'a' },
  new Raw('{"__proto__":1}'), { constructor: 1 }, { toString: 'x' }, [{ k: 'a', v: '1.234' }], [{ v: '1' }], { a: 1, inner: { x: 1 } },
  nest(200, '[', ']', '1'), nest(200, '{"a":', '}', '1'), nest(20_000, '[', ']', ''),
];

const isoDay = (r: () => number): string => `2026-11-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
const hex = (r: () => number, n: number): string => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');

function validRecord(r: () => number, id: number): Record<string, unknown> {
  const maybe = <T>(v: T): T | null | undefined => { const x = r(); return x < 0.1 ? null : x < 0.15 ? undefined : v; };
  const rec: Record<string, unknown> = {
    id,
    req: `r${id}`,
    b: maybe(r() < 0.5),
    i: maybe(Math.floor(r() * 2 ** 32) - 2 ** 31),
    l: maybe(r() < 0.5 ? Math.floor(r() * 1e12) : new Raw(`${r() < 0.5 ? '-' : ''}9${Math.floor(r() * 1e17)}`)),
    f: maybe(Math.fround(r() * 1000 - 500)),
    d: maybe(r() * 1e6),
    dec: maybe(`${Math.floor(r() * 1e6)}.${String(Math.floor(r() * 1000)).padStart(3, '0')}`),
    dec38: maybe(`-${Math.floor(r() * 1e15)}${Math.floor(r() * 1e12)}.${Math.floor(r() * 1e9)}`),
    dt: maybe(isoDay(r)),
    tm: maybe(`${String(Math.floor(r() * 24)).padStart(2, '0')}:30:00.123456`),
    ts: maybe(`${isoDay(r)}T12:34:56.${hex(r, 0) || '123456'}`),
    tstz: maybe(r() < 0.5 ? `${isoDay(r)}T01:02:03Z` : `${isoDay(r)}T01:02:03.5+05:30`),
    s: maybe(['plain', 'ünïcödé', '😀 emoji', '', 'tab\tand\nnewline'][Math.floor(r() * 5)]),
    u: maybe(`${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`),
    fx: maybe(Buffer.from([id & 255, 1, 2, 3]).toString('base64')),
    bin: maybe(Buffer.from(hex(r, Math.floor(r() * 10)), 'utf8').toString('base64')),
    st: maybe({ a: id % 1000, inner: maybe({ x: maybe('x'), y: maybe([1.5, null, -0]) }) }),
    ls: maybe([1, '2', new Raw('9223372036854775807')]),
    lst: maybe([{ k: 'a', v: '1.25' }, null, { k: 'b' }]),
    mp: maybe(r() < 0.5 ? { a: 1, b: null } : [['a', 1], ['b', 2]]),
    mpl: maybe([[1, ['x', null]], [2, null]]),
  };
  for (const k of Object.keys(rec)) if (rec[k] === undefined) delete rec[k];
  return rec;
}

/** Every container (object/array) in the record with its keys: where a mutation may land. */
function slots(v: unknown, out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = []): typeof out {
  if (v instanceof Raw || v === null || typeof v !== 'object') return out;
  if (Array.isArray(v)) v.forEach((x, i) => { out.push({ parent: v, key: i }); slots(x, out); });
  else for (const [k, x] of Object.entries(v)) { out.push({ parent: v as Record<string, unknown>, key: k }); slots(x, out); }
  return out;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** A fresh copy of a weird value: later mutations land inside it, never in the shared pool
 * (which once grew cycles across records). Raw literals are immutable and shared. */
function copy(v: unknown): unknown {
  if (v instanceof Raw || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(copy);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
}
const weird = (r: () => number): unknown => copy(pick(r, WEIRD));

function mutate(r: () => number, rec: Record<string, unknown>): void {
  const all = slots(rec);
  const s = pick(r, all);
  const isId = s.parent === rec && s.key === 'id';
  const parent = s.parent as Record<string | number, unknown>;
  const op = Math.floor(r() * 8);
  if (isId) { // the id keeps its value or becomes invalid, so a row in the table is still its line's
    parent.id = pick(r, [undefined, null, 'x', ' 12 ', 1.5, new Raw('1e400'), new Raw('99999999999999999999'), String(parent.id)]);
    if (parent.id === undefined) delete parent.id;
    return;
  }
  switch (op) {
    case 0: case 1: case 2: parent[s.key] = weird(r); break;
    case 3: if (Array.isArray(parent)) parent.splice(s.key as number, 1); else delete parent[s.key]; break;
    case 4: { // extra field, here or at the top
      const target = !Array.isArray(parent) && r() < 0.5 ? parent : rec;
      target[pick(r, ['extra', 'ID', 'id ', '', '\ud800', 'é'])] = weird(r);
      break;
    }
    case 5: { // numbers as strings, strings as numbers
      const v = parent[s.key];
      parent[s.key] = typeof v === 'number' ? String(v) : v instanceof Raw ? v.text : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? new Raw(String(Number(v))) : v;
      break;
    }
    case 6: parent[s.key] = [parent[s.key]]; break; // wrapped in an array
    default: parent[s.key] = { value: parent[s.key] }; // wrapped in an object
  }
}

/** One NDJSON line for record `id`: valid, mutated (wrong types, weird values, extra or missing
 * fields, wrapped values), not an object, or broken JSON. */
export function fuzzLine(r: () => number, id: number): string {
  const x = r();
  if (x < 0.01) return pick(r, ['null', '[]', '42', '"text"', '[{"id":1}]', 'true', '{"id":1,}', '{', '{"id":1', 'NaN', '{"id":1}{"id":2}']);
  const rec = validRecord(r, id);
  if (x < 0.3) return toJson(rec);
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) mutate(r, rec);
  const text = toJson(rec);
  if (x >= 0.33) return text;
  // Broken JSON; never cut inside a surrogate pair (the file would hold U+FFFD, not this line).
  return text.slice(0, Math.floor(r() * text.length)).replace(/[\uD800-\uDBFF]$/, '') || '{';
}
