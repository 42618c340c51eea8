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
  // Key → position of its winner in `changes`; one Map lookup per change (this runs over every
  // row of a merge input).
  const winners = new Map<string, number>();
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    const prev = winners.get(c.key);
    if (prev === undefined || wins(c, changes[prev]!, hasOrder)) winners.set(c.key, i);
  }
  const isWinner = new Uint8Array(changes.length);
  for (const i of winners.values()) isWinner[i] = 1;
  const out: Change[] = [];
  for (let i = 0; i < changes.length; i++) if (isWinner[i] === 1) out.push(changes[i]!);
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
