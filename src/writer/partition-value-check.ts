// Refuses records whose partition value would not fit the partition field's type. A transform
// can leave its type's range: truncate[100] of decimal(9,2) -9999999.99 is -10000000.00 (ten
// digits), hour of a timestamp beyond year ~246,000 exceeds int. Java and pyiceberg refuse such
// values, and once one is in a manifest every Trino query of the table fails ("decimal precision
// larger than column precision"), so the record goes to the dead letters instead.
// truncate on int/long wraps like Java's arithmetic (transforms.ts) and so always fits.
import type { PartitionFieldType } from '../spec/partition-spec.ts';
import { transformToString } from '../spec/transforms.ts';
import { primitiveToString, type PrimitiveType, type PrimitiveValue } from '../spec/types.ts';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function fitsType(type: PrimitiveType, value: PrimitiveValue): boolean {
  switch (type.kind) {
    case 'int':
    case 'date':
      return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX;
    case 'decimal': {
      if (typeof value !== 'bigint') return false;
      const magnitude = value < 0n ? -value : value;
      return magnitude < 10n ** BigInt(type.precision);
    }
    default:
      // string/binary truncation only shortens; bucket is in [0, N); the rest is identity.
      return true;
  }
}

function showValue(type: PrimitiveType, value: PrimitiveValue): string {
  if (type.kind === 'decimal' && typeof value === 'bigint') {
    const digits = (value < 0n ? -value : value).toString().padStart(type.scale + 1, '0');
    const point = digits.length - type.scale;
    const text = type.scale === 0 ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`;
    return value < 0n ? `-${text}` : text;
  }
  return String(value);
}

/**
 * Why the partition value `value` (the transform's result for `field`) cannot be written, or
 * undefined if it fits the field's result type.
 */
export function partitionValueProblem(field: PartitionFieldType, value: PrimitiveValue | null): string | undefined {
  if (value === null || fitsType(field.type, value)) return undefined;
  return `partition field '${field.name}' (${transformToString(field.transform)}) gets ${showValue(field.type, value)}, ` +
    `which does not fit its type ${primitiveToString(field.type)}; Iceberg readers refuse such a partition value`;
}
