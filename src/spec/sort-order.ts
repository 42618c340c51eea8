// Sort orders (spec "Sorting"): the JSON form only; order id 0 is reserved for unsorted.
import { z } from 'zod';

/** One sort key: a (transformed) source column, its direction and where nulls go. */
export interface SortField {
  /** `source-id`: the field id of the source column. */
  readonly sourceId: number;
  /** The transform's JSON form (`identity`, `day`, `bucket[16]`…). */
  readonly transform: string;
  /** `asc` or `desc`. */
  readonly direction: 'asc' | 'desc';
  /** `nulls-first` or `nulls-last`. */
  readonly nullOrder: 'nulls-first' | 'nulls-last';
}
/** A table's sort order (spec "Sorting"); order id 0 with no fields = unsorted. */
export interface SortOrder {
  /** `order-id` (0 = unsorted). */
  readonly orderId: number;
  /** The sort keys, most significant first. */
  readonly fields: readonly SortField[];
}

export const unsortedOrder: SortOrder = { orderId: 0, fields: [] };

export const sortOrderJson = z.object({
  'order-id': z.number().int(),
  fields: z.array(z.object({
    'source-id': z.number().int(),
    transform: z.string(),
    direction: z.enum(['asc', 'desc']),
    'null-order': z.enum(['nulls-first', 'nulls-last']),
  })),
});

export function sortOrderFromJson(j: z.infer<typeof sortOrderJson>): SortOrder {
  return {
    orderId: j['order-id'],
    fields: j.fields.map((f) => ({ sourceId: f['source-id'], transform: f.transform, direction: f.direction, nullOrder: f['null-order'] })),
  };
}

export function sortOrderToJson(o: SortOrder): Record<string, unknown> {
  return {
    'order-id': o.orderId,
    fields: o.fields.map((f) => ({ transform: f.transform, 'source-id': f.sourceId, direction: f.direction, 'null-order': f.nullOrder })),
  };
}
