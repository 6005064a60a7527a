/**
 * Politeness per host: at most one request in flight, and at least minIntervalMs between the starts of two
 * requests. Entries vanish when a host goes idle, so 100,000 hosts cost nothing once crawled.
 */
export class HostGate {
  private readonly tails = new Map<string, { tail: Promise<void>; lastStart: number; pending: number }>();
  private readonly minIntervalMs: number;
  /** Per-host extra delay (robots.txt Crawl-delay), in ms. */
  private readonly delays = new Map<string, number>();

  constructor(minIntervalMs: number) {
    this.minIntervalMs = minIntervalMs;
  }

  setDelay(host: string, ms: number): void {
    if (ms > 0) this.delays.set(host, ms);
  }

  forget(host: string): void {
    this.delays.delete(host);
  }

  get size(): number {
    return this.tails.size;
  }

  run<T>(host: string, fn: () => Promise<T>): Promise<T> {
    let e = this.tails.get(host);
    if (!e) {
      e = { tail: Promise.resolve(), lastStart: -Infinity, pending: 0 };
      this.tails.set(host, e);
    }
    const entry = e;
    entry.pending++;
    const result = entry.tail.then(async () => {
      const gap = Math.max(this.minIntervalMs, this.delays.get(host) ?? 0);
      // A monotonic clock, and a loop: a timer may fire a millisecond before the gap has passed.
      for (;;) {
        const wait = entry.lastStart + gap - performance.now();
        if (wait <= 0) break;
        await new Promise((r) => setTimeout(r, Math.ceil(wait)));
      }
      entry.lastStart = performance.now();
      return fn();
    });
    entry.tail = result.then(
      () => {},
      () => {}
    );
    void entry.tail.then(() => {
      if (--entry.pending === 0 && this.tails.get(host) === entry) {
        // Keep the entry only while the interval still matters; a later request recreates it.
        const gap = Math.max(this.minIntervalMs, this.delays.get(host) ?? 0);
        if (gap === 0) this.tails.delete(host);
        else
          setTimeout(() => {
            if (entry.pending === 0 && this.tails.get(host) === entry) this.tails.delete(host);
          }, gap).unref();
      }
    });
    return result;
  }
}
