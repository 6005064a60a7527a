/**
 * Staff-written annotations for the growth charts (registrations closed, migration waves …), kept by the
 * dashboard server process beside the database, never in the collector's DuckDB file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** One annotation as stored and shown. Dates are UTC days (YYYY-MM-DD), like every day axis. */
export interface Annotation {
  id: number;
  start: string;
  /** Last day of a period (a migration wave); null for a single day. */
  end: string | null;
  label: string;
  note: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

export interface AnnotationInput {
  start: string;
  end: string | null;
  label: string;
  note: string;
}

interface FileShape {
  version: 1;
  nextId: number;
  annotations: Annotation[];
}

export const LABEL_MAX = 80;
export const NOTE_MAX = 500;
export const MAX_ANNOTATIONS = 1000;
/** Longest period one annotation may cover (a wave, a closure), in days. */
export const SPAN_MAX_DAYS = 3 * 366;

export type FieldErrors = Partial<Record<'start' | 'end' | 'label' | 'note' | 'form', string>>;

export class AnnotationError extends Error {
  status: 400 | 404 | 409 | 500;
  constructor(status: 400 | 404 | 409 | 500, message: string) {
    super(message);
    this.status = status;
  }
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** A real calendar day in YYYY-MM-DD, or null (2026-02-30 and 2026-2-3 are refused). */
export function parseDay(s: string): number | null {
  const m = DAY.exec(s);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === s ? ms : null;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * Checks and normalises what a form sent. Labels are one line of plain text (they are drawn on the chart
 * and always escaped when shown); notes may have line breaks. `today` bounds dates to a sensible window.
 */
export function validateAnnotation(
  raw: { start?: unknown; end?: unknown; label?: unknown; note?: unknown },
  today: string = new Date().toISOString().slice(0, 10)
): { ok: true; value: AnnotationInput } | { ok: false; errors: FieldErrors } {
  const str = (v: unknown) => (typeof v === 'string' ? v.normalize('NFC').trim() : '');
  const start = str(raw.start);
  const end = str(raw.end);
  const label = str(raw.label).replace(/\s+/g, ' ');
  const note = str(raw.note).replace(/\r\n?/g, '\n');
  const errors: FieldErrors = {};
  const todayMs = parseDay(today) ?? Date.now();
  const min = Date.UTC(2000, 0, 1);
  const max = todayMs + 366 * DAY_MS;
  const startMs = parseDay(start);
  if (!start) errors.start = 'Give the day the event started (YYYY-MM-DD).';
  else if (startMs === null) errors.start = 'Not a calendar day: use YYYY-MM-DD.';
  else if (startMs < min || startMs > max) errors.start = 'The day must be between 2000 and a year from now.';
  let endMs: number | null = null;
  if (end) {
    endMs = parseDay(end);
    if (endMs === null) errors.end = 'Not a calendar day: use YYYY-MM-DD, or leave it empty.';
    else if (startMs !== null && endMs < startMs) errors.end = 'The end must be on or after the start.';
    else if (startMs !== null && endMs === startMs)
      endMs = null; // a one-day period is a single day
    else if (startMs !== null && (endMs - startMs) / DAY_MS > SPAN_MAX_DAYS)
      errors.end = 'A period may cover at most three years.';
    else if (endMs > max) errors.end = 'The end must be at most a year from now.';
  }
  const labelLen = [...label].length;
  if (!label) errors.label = 'Give a short label.';
  else if (labelLen > LABEL_MAX) errors.label = `At most ${LABEL_MAX} characters (this has ${labelLen}).`;
  else if (CONTROL.test(label)) errors.label = 'Plain text only: no control characters.';
  const noteLen = [...note].length;
  if (noteLen > NOTE_MAX) errors.note = `At most ${NOTE_MAX} characters (this has ${noteLen}).`;
  else if (CONTROL.test(note.replace(/\n/g, ''))) errors.note = 'Plain text only: no control characters.';
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, value: { start, end: endMs === null ? null : end, label, note } };
}

/** Serialises work per file inside this process: each change reads, edits and replaces the whole file. */
const locks = new Map<string, Promise<unknown>>();
function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(file) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.catch(() => undefined);
  locks.set(file, settled);
  void settled.then(() => {
    if (locks.get(file) === settled) locks.delete(file);
  });
  return next;
}

function isAnnotation(a: unknown): a is Annotation {
  const x = a as Annotation;
  return (
    typeof x === 'object' &&
    x !== null &&
    Number.isInteger(x.id) &&
    typeof x.start === 'string' &&
    parseDay(x.start) !== null &&
    (x.end === null || (typeof x.end === 'string' && parseDay(x.end) !== null)) &&
    typeof x.label === 'string' &&
    typeof x.note === 'string'
  );
}

const byDay = (a: Annotation, b: Annotation) => a.start.localeCompare(b.start) || a.id - b.id;

export class AnnotationStore {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }

  /** The whole file; a missing file is an empty list, an unreadable one is an error (never overwritten). */
  private async read(): Promise<FileShape> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nextId: 1, annotations: [] };
      throw new AnnotationError(500, `cannot read ${this.file}: ${(err as Error).message}`);
    }
    let data: FileShape;
    try {
      data = JSON.parse(text) as FileShape;
    } catch {
      throw new AnnotationError(500, `${this.file} is not valid JSON; fix or move it aside`);
    }
    if (data?.version !== 1 || !Array.isArray(data.annotations) || !data.annotations.every(isAnnotation))
      throw new AnnotationError(500, `${this.file} is not an annotations file (version 1)`);
    const maxId = Math.max(0, ...data.annotations.map((a) => a.id));
    return {
      version: 1,
      nextId: Math.max(Number(data.nextId) || 1, maxId + 1),
      annotations: data.annotations
    };
  }

  /** Write a temporary file, fsync it, rename it over the old one, fsync the folder: never half-written. */
  private async write(data: FileShape): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(`${JSON.stringify(data, null, 2)}\n`, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    try {
      const dir = await open(path.dirname(this.file), 'r');
      await dir.sync().finally(() => dir.close());
    } catch {
      /* some filesystems cannot fsync a folder; the rename is still atomic */
    }
  }

  async list(): Promise<Annotation[]> {
    return (await this.read()).annotations.sort(byDay);
  }

  /** Annotations that overlap [start, end] (inclusive UTC days). */
  async inRange(start: string, end: string): Promise<Annotation[]> {
    return (await this.list()).filter((a) => a.start <= end && (a.end ?? a.start) >= start);
  }

  add(input: AnnotationInput, by: string, now = new Date()): Promise<Annotation> {
    return withLock(this.file, async () => {
      const data = await this.read();
      if (data.annotations.length >= MAX_ANNOTATIONS)
        throw new AnnotationError(400, `At most ${MAX_ANNOTATIONS} annotations; delete old ones first.`);
      const at = now.toISOString();
      const a: Annotation = {
        id: data.nextId,
        ...input,
        createdAt: at,
        createdBy: by,
        updatedAt: at,
        updatedBy: by
      };
      await this.write({ version: 1, nextId: data.nextId + 1, annotations: [...data.annotations, a] });
      return a;
    });
  }

  /** `seen` is the updatedAt the editor started from: a change made meanwhile by someone else is not lost. */
  update(
    id: number,
    input: AnnotationInput,
    by: string,
    seen?: string,
    now = new Date()
  ): Promise<Annotation> {
    return withLock(this.file, async () => {
      const data = await this.read();
      const old = data.annotations.find((a) => a.id === id);
      if (!old) throw new AnnotationError(404, 'That annotation no longer exists.');
      if (seen && seen !== old.updatedAt)
        throw new AnnotationError(
          409,
          `${old.updatedBy} changed this annotation meanwhile; reload and edit again.`
        );
      const a: Annotation = { ...old, ...input, updatedAt: now.toISOString(), updatedBy: by };
      await this.write({ ...data, annotations: data.annotations.map((x) => (x.id === id ? a : x)) });
      return a;
    });
  }

  remove(id: number): Promise<void> {
    return withLock(this.file, async () => {
      const data = await this.read();
      if (!data.annotations.some((a) => a.id === id))
        throw new AnnotationError(404, 'That annotation no longer exists.');
      await this.write({ ...data, annotations: data.annotations.filter((a) => a.id !== id) });
    });
  }
}
