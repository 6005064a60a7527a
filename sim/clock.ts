/**
 * The simulator's clock. It starts at real time (or a given instant) and can be moved, so that the demo
 * and the tests can build history: what the simulated servers serve is always "as of" clock.now().
 */
export class SimClock {
  private offsetMs: number;
  constructor(start?: Date) {
    this.offsetMs = start ? start.getTime() - Date.now() : 0;
  }
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  set(at: Date): void {
    this.offsetMs = at.getTime() - Date.now();
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
