import { describe, expect, it } from 'vitest';
import { jsonDepth, MAX_JSON_DEPTH } from '../../collectors/json.ts';
import { readJson } from '../../collectors/net/fetch.ts';
import { chooseNodeinfoLink, parseNodeinfo } from '../../collectors/peers/nodeinfo.ts';
import { redactNodeinfo } from '../../collectors/peers/redact.ts';
import { deepLinksDocument, deepMetadataDocument, HOSTILE_DEPTH } from '../../sim/peers/failures.ts';

/**
 * Issue 14, high: a NodeInfo answer nested 200,000 levels deep (under the size cap) overflowed the stack in a
 * recursive walk. JSON.parse itself copes (V8 parses iteratively), so the documents are parsed here exactly
 * as served by the simulator's hostile peers and every walk of the crawler is run on them.
 */
const base = new URL('https://hostile.example/.well-known/nodeinfo');
const NS = 'http://nodeinfo.diaspora.software/ns/schema/';

describe('JSON nested 200,000 levels deep (issue 14)', () => {
  it('the simulator serves both documents under the 1 MiB body cap, 200,000 levels deep', () => {
    for (const text of [deepLinksDocument(), deepMetadataDocument()]) {
      expect(Buffer.byteLength(text)).toBeLessThan(1 << 20);
      expect(jsonDepth(text)).toBeGreaterThanOrEqual(HOSTILE_DEPTH);
      expect(() => JSON.parse(text)).not.toThrow();
    }
  });

  it('readJson refuses nested links and nested metadata before parsing, as too deep', () => {
    for (const text of [deepLinksDocument(), deepMetadataDocument()]) {
      const r = readJson(Buffer.from(text));
      expect(r.ok).toBe(false);
      expect(r.ok ? null : r.tooDeep).toBe(true);
      expect(r.ok ? '' : r.error).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    }
    // Real documents are far shallower and pass.
    expect(readJson(Buffer.from('{"links":[{"rel":"x","href":"/n"}]}')).ok).toBe(true);
  });

  it('choosing the NodeInfo link from nested links finds no link and does not overflow', () => {
    const doc = JSON.parse(deepLinksDocument()) as unknown;
    expect(chooseNodeinfoLink(doc, base)).toBeNull();
    // A real link beside the hostile nesting is still found.
    const mixed = JSON.parse(
      `{"links":[${'['.repeat(HOSTILE_DEPTH)}${']'.repeat(HOSTILE_DEPTH)},{"rel":"${NS}2.0","href":"/nodeinfo/2.0"}]}`
    ) as unknown;
    expect(chooseNodeinfoLink(mixed, base)?.href.href).toBe('https://hostile.example/nodeinfo/2.0');
  });

  it('parsing and redacting a document with nested metadata does not overflow; metadata is dropped', () => {
    const doc = JSON.parse(deepMetadataDocument()) as unknown;
    const parsed = parseNodeinfo(doc);
    expect(parsed.ok && parsed.value.software).toBe('mastodon');
    expect(parsed.ok && parsed.value.usersTotal).toBe(12);
    const kept = redactNodeinfo(doc);
    expect(kept.metadata).toEqual({});
    expect(JSON.stringify(kept).length).toBeLessThan(400);
  });

  it('nested usage and openRegistrations become short quirks, never serialised whole', () => {
    const nest = `${'['.repeat(HOSTILE_DEPTH)}${']'.repeat(HOSTILE_DEPTH)}`;
    const doc = JSON.parse(
      `{"version":"2.0","software":{"name":"mastodon"},"usage":${nest},"openRegistrations":${nest}}`
    ) as unknown;
    const parsed = parseNodeinfo(doc);
    expect(parsed.ok).toBe(true);
    const quirks = parsed.ok ? parsed.value.quirks : [];
    expect(quirks).toContain('usage is an array of 1');
    expect(quirks).toContain('openRegistrations is an array of 1');
  });

  it('counts depth by a scan that ignores brackets inside strings', () => {
    expect(jsonDepth('{"a":"[[[[{{{{","b":[1,{"c":"\\"]"}]}')).toBe(3);
    expect(jsonDepth('[]')).toBe(1);
    expect(jsonDepth('"[["')).toBe(0);
    // Stops early past the limit: the scan of a hostile document costs no more than it must.
    expect(jsonDepth(deepLinksDocument(), 10)).toBe(11);
  });
});
