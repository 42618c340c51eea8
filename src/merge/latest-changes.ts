// One change per key: the one MERGE applies. Pure: no I/O.
import type { Change } from './change-decoder.ts';
import { compareOrderValues } from './change-order.ts';

/**
 * The winning change of every key, in input order. With `hasOrder`, the greatest order value
 * wins (compareOrderValues; a null order loses to any value) and a tie goes to the change later
 * in the input (greater index). Without order, the last change in the input wins: the input is
 * taken as stream order, as a Kafka partition or a CDC log delivers it.
 */
export function latestPerKey(changes: readonly Change[], hasOrder: boolean): Change[] {
  const winners = new Map<string, Change>();
  for (const c of changes) {
    const prev = winners.get(c.key);
    if (prev === undefined || wins(c, prev, hasOrder)) winners.set(c.key, c);
  }
  const out: Change[] = [];
  for (const c of changes) if (winners.get(c.key) === c) out.push(c);
  // `changes` normally comes in input order already; sort only when it does not.
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.index < out[i - 1]!.index) return out.sort((a, b) => a.index - b.index);
  }
  return out;
}

function wins(c: Change, prev: Change, hasOrder: boolean): boolean {
  if (hasOrder) {
    const cmp = compareOrderValues(c.order, prev.order);
    if (cmp !== 0) return cmp > 0;
  }
  return c.index > prev.index;
}
