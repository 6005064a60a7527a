import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, SMALL } from '../../bench/dataset.ts';
import { serve, type Served } from '../../bench/pages.ts';
import {
  AnnotationStore,
  validateAnnotation,
  type Annotation
} from '../../src/lib/server/annotations/store.ts';

// Staff annotations on /growth: written through the form actions of /growth/annotations, kept beside the database.
const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-annotations-'));
const file = path.join(dir, 'fp.duckdb');
const store = `${file}.annotations.json`;
const buildDir = process.env.FEDIPULSE_BUILD_DIR;
let server: Served;
let lastDay = '';

const day = (offset: number) =>
  new Date(Date.parse(`${lastDay}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
const saved = (): Annotation[] => {
  try {
    return (JSON.parse(readFileSync(store, 'utf8')) as { annotations: Annotation[] }).annotations;
  } catch {
    return [];
  }
};

/** A form POST as a browser sends it (same origin, url-encoded), with or without the staff cookie. */
const post = (action: string, fields: Record<string, string>, staff = true) =>
  fetch(`${server.url}/growth/annotations?/${action}`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      origin: server.url,
      accept: 'text/html', // as a browser without JavaScript sends it (*/* gets SvelteKit's JSON answer)
      'content-type': 'application/x-www-form-urlencoded',
      ...(staff ? { cookie: server.staffCookie } : {})
    },
    body: new URLSearchParams(fields)
  });
const get = (p: string, staff = true) =>
  fetch(`${server.url}${p}`, { headers: staff ? { cookie: server.staffCookie } : {} });
const events = async () =>
  (
    (await (await get('/data/growth/events.json?range=90d')).json()) as {
      rows: { day: string; event: string; until: string | null; source: string; note: string | null }[];
    }
  ).rows;

beforeAll(async () => {
  await generateDataset({ ...SMALL, file });
  // Growth public (as a co-op may configure it), so anonymous requests reach the page and its actions.
  server = await serve(file, { buildDir });
  const members = (await (await get('/data/growth/members.json?range=90d')).json()) as {
    range: { end: string };
  };
  lastDay = members.range.end;
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('growth annotations', () => {
  it('staff add one; it is listed with the detected events, on /growth and in the exports', async () => {
    const res = await post('add', {
      start: day(-20),
      end: '',
      label: 'Registrations closed by the board',
      note: 'Spam wave; reopened after the vote.'
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Annotation added.');
    const [a] = saved();
    expect(a).toMatchObject({ start: day(-20), end: null, label: 'Registrations closed by the board' });
    expect(a.createdBy).toBe('admin@coop.social.example');
    expect(await events()).toContainEqual({
      day: day(-20),
      event: 'Registrations closed by the board',
      until: null,
      source: 'staff',
      note: 'Spam wave; reopened after the vote.'
    });
    const csv = await (await get('/data/growth/events.csv?range=90d')).text();
    expect(csv).toContain(`${day(-20)},Registrations closed by the board,,staff,`);
    const html = await (await get('/growth?range=90d')).text();
    expect(html).toContain('Registrations closed by the board');
    expect(html).toContain('Add or edit annotations');
    // Outside the range it is not shown.
    expect((await (await get('/data/growth/events.json?range=7d')).json()).rows).not.toContainEqual(
      expect.objectContaining({ source: 'staff' })
    );
  });

  it('staff edit and delete; a stale edit is refused instead of overwriting', async () => {
    const add = await post('add', { start: day(-40), end: day(-33), label: 'Migration wave', note: '' });
    expect(add.status).toBe(200);
    const a = saved().find((x) => x.label === 'Migration wave')!;
    expect(a.end).toBe(day(-33));
    const edit = await post('edit', {
      id: String(a.id),
      seen: a.updatedAt,
      start: day(-41),
      end: day(-30),
      label: 'Migration wave from a closing server',
      note: 'about 300 accounts'
    });
    expect(edit.status).toBe(200);
    const b = saved().find((x) => x.id === a.id)!;
    expect(b).toMatchObject({
      start: day(-41),
      end: day(-30),
      label: 'Migration wave from a closing server'
    });
    expect(await events()).toContainEqual(
      expect.objectContaining({ day: day(-41), until: day(-30), source: 'staff' })
    );
    const stale = await post('edit', {
      id: String(a.id),
      seen: a.updatedAt,
      start: day(-41),
      label: 'Older'
    });
    expect(stale.status).toBe(409);
    expect(saved().find((x) => x.id === a.id)!.label).toBe('Migration wave from a closing server');
    const del = await post('delete', { id: String(a.id) });
    expect(del.status).toBe(200);
    expect(saved().some((x) => x.id === a.id)).toBe(false);
    expect((await post('delete', { id: String(a.id) })).status).toBe(404);
  });

  it('refuses anonymous visitors with 403 and changes nothing', async () => {
    const before = readFileSync(store, 'utf8');
    for (const action of ['add', 'edit', 'delete']) {
      const res = await post(action, { id: '1', start: day(-5), label: 'Not staff' }, false);
      expect(res.status).toBe(403);
    }
    expect((await get('/growth/annotations', false)).status).toBe(403);
    expect(readFileSync(store, 'utf8')).toBe(before);
    // A cross-site form post is refused by SvelteKit's origin check before it reaches the action.
    const cross = await fetch(`${server.url}/growth/annotations?/add`, {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        cookie: server.staffCookie,
        'content-type': 'application/x-www-form-urlencoded'
      },
      body: new URLSearchParams({ start: day(-5), label: 'csrf' })
    });
    expect(cross.status).toBe(403);
    expect(readFileSync(store, 'utf8')).toBe(before);
  });

  it('validates dates and lengths on the server, and escapes labels', async () => {
    const before = saved().length;
    const bad: [Record<string, string>, string][] = [
      [{ start: '2026-02-30', label: 'x' }, 'Not a calendar day'],
      [{ start: '', label: 'x' }, 'Give the day'],
      [{ start: day(-3), end: day(-9), label: 'x' }, 'on or after the start'],
      [{ start: day(-3), label: '   ' }, 'Give a short label'],
      [{ start: day(-3), label: 'x'.repeat(81) }, 'At most 80 characters'],
      [{ start: day(-3), label: 'ok', note: 'n'.repeat(501) }, 'At most 500 characters'],
      [{ start: day(-3), label: 'bell\u0007' }, 'Plain text only'],
      [{ start: '1999-12-31', label: 'x' }, 'between 2000']
    ];
    for (const [fields, message] of bad) {
      const res = await post('add', { end: '', note: '', ...fields });
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(await res.text()).toContain(message);
    }
    expect((await post('edit', { id: 'abc', start: day(-3), label: 'x' })).status).toBe(400);
    expect(saved().length).toBe(before);
    const evil = '<img src=x onerror=alert(1)> & "quotes"';
    expect(
      (await post('add', { start: day(-2), label: evil, note: '<script>alert(1)</script>' })).status
    ).toBe(200);
    for (const p of ['/growth?range=90d', '/growth/annotations']) {
      const html = await (await get(p)).text();
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain('<script>alert(1)');
      expect(html).toContain('&lt;img src=x onerror=alert(1)>');
    }
    // Pure checks: a one-day period is a single day; whitespace is tidied.
    expect(
      validateAnnotation({ start: '2025-03-01', end: '2025-03-01', label: '  a   b ' }, '2026-01-01')
    ).toEqual({
      ok: true,
      value: { start: '2025-03-01', end: null, label: 'a b', note: '' }
    });
  });

  it('survives a restart of the dashboard', async () => {
    const labels = saved().map((a) => a.label);
    expect(labels).toContain('Registrations closed by the board');
    await server.stop();
    server = await serve(file, { buildDir });
    const html = await (await get('/growth/annotations')).text();
    for (const l of labels.filter((x) => !x.includes('<'))) expect(html).toContain(l);
    expect(await events()).toContainEqual(
      expect.objectContaining({ event: 'Registrations closed by the board' })
    );
  });
});

describe('annotation store', () => {
  it('serialises concurrent changes (no lost update) and never leaves a half-written file', async () => {
    const f = path.join(dir, 'concurrent.annotations.json');
    const s = new AnnotationStore(f);
    const input = (i: number) => ({ start: '2025-01-01', end: null, label: `a${i}`, note: '' });
    const made = await Promise.all(Array.from({ length: 25 }, (_, i) => s.add(input(i), 'test')));
    expect(new Set(made.map((a) => a.id)).size).toBe(25);
    await Promise.all([
      s.remove(made[0].id),
      s.update(made[1].id, input(99), 'test'),
      s.add(input(100), 'test')
    ]);
    const list = await s.list();
    expect(list).toHaveLength(25);
    expect(list.map((a) => a.label)).toContain('a99');
    expect(JSON.parse(readFileSync(f, 'utf8')).annotations).toHaveLength(25);
  });

  it('refuses to overwrite a file it cannot read', async () => {
    const f = path.join(dir, 'broken.annotations.json');
    writeFileSync(f, '{"version": 1, "annotations": [');
    const s = new AnnotationStore(f);
    await expect(s.list()).rejects.toThrow(/not valid JSON/);
    await expect(s.add({ start: '2025-01-01', end: null, label: 'x', note: '' }, 't')).rejects.toThrow();
    expect(readFileSync(f, 'utf8')).toBe('{"version": 1, "annotations": [');
  });
});
