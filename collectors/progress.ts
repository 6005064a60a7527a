/**
 * What the collector tells a person: live progress on a terminal, one summary line per source otherwise
 * (or with --quiet). Never prints secrets: callers pass only counts, names and reasons.
 */
export interface Progress {
  /** A transient status line (what is being fetched, counts, waits). */
  status(text: string): void;
  /** A permanent line: one per source when done. */
  line(text: string): void;
  /** A warning worth keeping on screen even when quiet. */
  warn(text: string): void;
  done(): void;
}

export function createProgress(opts: { quiet: boolean; stream?: NodeJS.WriteStream }): Progress {
  const out = opts.stream ?? process.stderr;
  const live = !opts.quiet && Boolean(out.isTTY);
  let shown = false;
  let last = 0;
  const clear = () => {
    if (shown) {
      out.write('\r\x1b[2K');
      shown = false;
    }
  };
  return {
    status(text) {
      if (!live) return;
      const now = Date.now();
      if (now - last < 80) return; // repainting faster than the eye reads only costs time
      last = now;
      clear();
      const width = (out.columns ?? 100) - 1;
      out.write(text.length > width ? text.slice(0, width - 1) + '…' : text);
      shown = true;
    },
    line(text) {
      clear();
      out.write(text + '\n');
    },
    warn(text) {
      clear();
      out.write(text + '\n');
    },
    done() {
      clear();
    }
  };
}

export const silentProgress: Progress = { status() {}, line() {}, warn() {}, done() {} };
