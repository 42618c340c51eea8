// The UTF-8 of a JSON array that mostly grows at its end (a table's snapshots and snapshot log
// gain one entry per commit): the bytes written for the previous list are kept, and a list that
// starts with the same items (same objects) only encodes and appends its new ones. Any other
// list is encoded again in full. No I/O, no Iceberg knowledge: items are immutable objects.

export class AppendOnlyJsonArray<T extends object> {
  private items: T[] = [];
  private buffer = new Uint8Array(0);
  private length = 0;

  /** `encode` writes one item's JSON as UTF-8. */
  constructor(private readonly encode: (item: T) => Uint8Array) {}

  /** The items' JSON joined by commas, without the brackets. The view is valid until the next call. */
  bytes(list: readonly T[]): Uint8Array {
    let keep = this.items.length <= list.length ? this.items.length : 0;
    for (let i = 0; i < keep; i++) if (this.items[i] !== list[i]) { keep = 0; break; }
    if (keep === 0) { this.items = []; this.length = 0; }
    for (let i = keep; i < list.length; i++) {
      const item = list[i]!;
      const encoded = this.encode(item);
      this.reserve(encoded.length + 1);
      if (i > 0) this.buffer[this.length++] = 44; // ','
      this.buffer.set(encoded, this.length);
      this.length += encoded.length;
      this.items.push(item);
    }
    return this.buffer.subarray(0, this.length);
  }

  private reserve(more: number): void {
    if (this.length + more <= this.buffer.length) return;
    const next = new Uint8Array(Math.max(1024, (this.length + more) * 2));
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }
}
