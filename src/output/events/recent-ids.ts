/**
 * The last `capacity` event ids this spool accepted, oldest forgotten first. `append` uses it to
 * drop an event that arrives twice in quick succession (the same verdict published twice) before it
 * costs a disk write; older repeats are the forward script's id guard's job.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly order: string[] = [];

  constructor(private readonly capacity: number) {}

  /** True when `id` is inside the window; otherwise remembers it and returns false. */
  seen(id: string): boolean {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    this.order.push(id);
    if (this.order.length > this.capacity) this.ids.delete(this.order.shift()!);
    return false;
  }
}
