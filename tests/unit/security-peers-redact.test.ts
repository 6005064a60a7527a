import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { findOwnMrfBlock } from '../../collectors/peers/blocks.ts';
import { parseNodeinfo } from '../../collectors/peers/nodeinfo.ts';
import { redactNodeinfo, storedNodeinfoText } from '../../collectors/peers/redact.ts';
import {
  MAX_QUIRK_CHARS,
  MAX_QUIRKS,
  notesText,
  ObservationBatch,
  type PeerObservation
} from '../../collectors/store/peers.ts';
import { ROOT } from '../helpers/index.ts';

const NI = path.join(ROOT, 'tests', 'fixtures', 'nodeinfo');
const fixture = (name: string) => readFileSync(path.join(NI, name), 'utf8');
const documents = readdirSync(NI).filter((f) => /nodeinfo-\d\.\d\.json$/.test(f));

/** Every domain-looking string anywhere in a value (the fixture's lists, found by hand-free search). */
function domainsIn(v: unknown, out = new Set<string>()): Set<string> {
  if (typeof v === 'string') {
    for (const m of v.matchAll(/\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b/gi)) out.add(m[0].toLowerCase());
  } else if (Array.isArray(v)) v.forEach((x) => domainsIn(x, out));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      domainsIn(k, out);
      domainsIn(x, out);
    }
  return out;
}

describe('redaction of stored NodeInfo documents (issue 14, privacy)', () => {
  it("keeps none of a Pleroma/Akkoma server's MRF and quarantine lists (real documents)", () => {
    for (const name of [
      'akkoma_3.0.0_soc.hyena.network.nodeinfo-2.0.json',
      'pleroma_2.2.50_soc.hyena.network.nodeinfo-2.0.json'
    ]) {
      const doc = JSON.parse(fixture(name)) as { metadata: { federation: Record<string, unknown> } };
      const fed = doc.metadata.federation;
      const listed = domainsIn({
        s: fed.mrf_simple,
        i: fed.mrf_simple_info,
        q: fed.quarantined_instances,
        qi: fed.quarantined_instances_info
      });
      expect(listed.size).toBeGreaterThan(5);
      const stored = storedNodeinfoText(fixture(name))!;
      for (const d of listed) expect(stored, `${name} keeps ${d}`).not.toContain(d);
      const kept = JSON.parse(stored) as { metadata: { federation: Record<string, unknown> } };
      // What the policy is, without whom it names.
      expect(Object.keys(kept.metadata.federation).sort()).toEqual(['enabled', 'exclusions', 'mrf_policies']);
    }
  });

  it('drops the other per-domain lists and personal data real software publishes', () => {
    const corgidon = JSON.parse(storedNodeinfoText(fixture('corgidon_3.1.3_banana.dog.nodeinfo-2.1.json'))!);
    expect(corgidon.metadata.federation).toEqual({});
    const relay = JSON.parse(storedNodeinfoText(fixture('aoderelay_relay.asonix.dog.nodeinfo-2.0.json'))!);
    expect(relay.metadata).toEqual({});
    const meisskey = JSON.parse(storedNodeinfoText(fixture('meisskey_10.102.699-m544.nodeinfo-2.1.json'))!);
    expect(meisskey.metadata.maintainer).toBeUndefined();
    expect(meisskey.metadata.relays).toBeUndefined();
    // A relay that publishes whom it blocks and whom it relays for, a Mastodon fork its suspensions.
    const made = redactNodeinfo({
      software: { name: 'aoderelay' },
      metadata: {
        blocks: ['blocked.example'],
        peers: ['peer.example'],
        federation: { suspend: ['s.example'], silence: ['q.example'], enabled: true },
        nodeAdmins: [{ name: 'A Person', email: 'a@person.example' }],
        staffAccounts: ['https://x.example/users/admin']
      }
    });
    expect(JSON.stringify(made)).not.toMatch(/example/);
    expect(made).toEqual({ software: { name: 'aoderelay' }, metadata: { federation: { enabled: true } } });
  });

  it('keeps everything the crawler reads: every real document parses to the same values', () => {
    for (const name of documents) {
      const before = parseNodeinfo(JSON.parse(fixture(name)));
      const after = parseNodeinfo(JSON.parse(storedNodeinfoText(fixture(name))!));
      expect(after.ok, name).toBe(before.ok);
      if (!before.ok || !after.ok) continue;
      const { quirks: _q1, ...a } = before.value;
      const { quirks: _q2, ...b } = after.value;
      expect(b, name).toEqual(a);
    }
  });

  it('is idempotent, and leaves a document with nothing to drop as served (Mastodon)', () => {
    const name = 'mastodon_4.5.0-nightly_mastodon.social.nodeinfo-2.0.json';
    const compact = JSON.stringify(JSON.parse(fixture(name)));
    expect(storedNodeinfoText(compact)).toBe(compact);
    for (const f of documents) {
      const once = storedNodeinfoText(fixture(f))!;
      expect(storedNodeinfoText(once), f).toBe(once);
    }
  });

  it('finds our own domain in the MRF lists of the document as served (before redaction)', () => {
    const doc = JSON.parse(fixture('akkoma_3.0.0_soc.hyena.network.nodeinfo-2.0.json'));
    const own = doc.metadata.federation.mrf_simple.federated_timeline_removal[0] as string;
    expect(findOwnMrfBlock(doc, own)).toMatchObject({ severity: 'silence', matchedBy: 'domain' });
    expect(findOwnMrfBlock(redactNodeinfo(doc), own)).toBeNull();
  });

  it('stores a lone surrogate as U+FFFD, which DuckDB JSON accepts (the raw escape fails a batch)', async () => {
    const text = '{"version":"2.0","software":{"name":"mastodon"},"metadata":{"nodeName":"Caf\\ud83d"}}';
    const stored = storedNodeinfoText(text)!;
    expect(JSON.parse(stored).metadata.nodeName).toBe('Caf\ufffd');
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await expect(conn.run('SELECT $1::JSON', [text])).rejects.toThrow(/surrogate/);
      await conn.run('SELECT $1::JSON', [stored]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  it('caps long strings and long lists, whatever the document', () => {
    const kept = redactNodeinfo({
      software: { name: 'x'.repeat(100_000) },
      metadata: { features: Array.from({ length: 10_000 }, (_, i) => `f${i}`), nodeName: { a: 1 } }
    }) as { software: { name: string }; metadata: { features: string[]; nodeName?: unknown } };
    expect(kept.software.name.length).toBeLessThanOrEqual(2000);
    expect(kept.metadata.features.length).toBe(64);
    expect(kept.metadata.nodeName).toBeUndefined();
  });
});

describe('per-host memory (issue 14)', () => {
  it('stores at most MAX_QUIRKS notes of MAX_QUIRK_CHARS each', () => {
    const text = notesText(Array.from({ length: 50 }, (_, i) => `${i}:${'q'.repeat(100_000)}`))!;
    const parts = text.split('; ');
    expect(parts.length).toBe(MAX_QUIRKS + 1);
    expect(parts.at(-1)).toBe(`… ${50 - MAX_QUIRKS} more`);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(MAX_QUIRK_CHARS);
    expect(notesText([])).toBeNull();
  });

  it('writes a batch early when its documents add up, not only at the row count', () => {
    const obs = (raw: string) =>
      ({ raw, quirks: [], suspectReasons: [], error: null, limit: null }) as unknown as PeerObservation;
    const batch = new ObservationBatch(500, 4 << 20);
    const big = 'x'.repeat(1 << 20);
    const full = [1, 2, 3, 4, 5].map(() => batch.add(obs(big)));
    expect(full).toEqual([false, false, false, true, true]);
    expect(batch.take()).toHaveLength(5);
    expect(batch.size).toBe(0);
    const small = new ObservationBatch(3, 4 << 20);
    expect([1, 2, 3].map(() => small.add(obs('{}')))).toEqual([false, false, true]);
  });
});
