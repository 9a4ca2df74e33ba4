/** What the heap orders: a tenant's queue, by the virtual start tag (then arrival) of its first waiter */
export interface HeapItem {
  /** Position in the heap's array; -1 when not in the heap */
  heapIndex: number;
  key(): number;
  seq(): number;
}

/**
 * A binary min-heap of tenant queues keyed by their head's start tag, ties broken by arrival sequence, with
 * positions tracked on the items so one item's key can change (its head was served) in O(log n). Only
 * tenants with waiters are in it, so its size is the number of tenants queueing, not of tenants.
 */
export class FlowHeap<T extends HeapItem> {
  readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  /** Takes `item` out, wherever it is */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.down(i);
    this.up(last.heapIndex);
  }

  /** Restores order after `item`'s key changed */
  update(item: T): void {
    if (item.heapIndex < 0) return;
    this.down(item.heapIndex);
    this.up(item.heapIndex);
  }

  private less(a: T, b: T): boolean {
    const ka = a.key();
    const kb = b.key();
    return ka < kb || (ka === kb && a.seq() < b.seq());
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!this.less(item, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(items[r]!, items[l]!) ? r : l;
      const child = items[c]!;
      if (!this.less(child, item)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
