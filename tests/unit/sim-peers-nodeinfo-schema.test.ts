import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../sim/clock.ts';
import { createPeerCatalog, SOFTWARE_NAMES } from '../../sim/peers/index.ts';

// The official NodeInfo schemas are draft-04 (jhass/nodeinfo). ajv-draft-04 is not installed; these
// schemas use no draft-04-only keyword (no boolean exclusiveMinimum), so Ajv's default draft reads
// them the same once `id` is renamed `$id` and `$schema` dropped.
const SCHEMAS = path.resolve(import.meta.dirname, '../fixtures/nodeinfo/schemas');
function validator(version: string): ValidateFunction {
  const raw = JSON.parse(readFileSync(path.join(SCHEMAS, `nodeinfo-${version}.schema.json`), 'utf8'));
  const { $schema: _s, id, ...rest } = raw as { $schema: string; id: string };
  return new Ajv({ strict: false, allErrors: true }).compile({ $id: id, ...rest });
}
const validators: Record<string, ValidateFunction> = {
  '1.0': validator('1.0'),
  '2.0': validator('2.0'),
  '2.1': validator('2.1')
};

const ca = { cert: '', key: '', certPath: '' };
const start = new Date('2026-03-01T12:00:00Z');

describe('simulated NodeInfo documents', () => {
  it('every document of a schema-conformant software passes the official schema, on several days', () => {
    const clock = new SimClock(start);
    const catalog = createPeerCatalog({
      seed: 7,
      count: 5000,
      ownDomain: 'social.coop.example',
      clock,
      failureRate: 0.15,
      ca
    });
    const validated: Record<string, number> = {};
    const failures: string[] = [];
    for (const offset of [0, 45, 200]) {
      const at = new Date(start.getTime() + offset * 86_400_000);
      for (const peer of catalog.peers()) {
        for (const doc of catalog.nodeinfoDocuments(peer.domain, at)) {
          if (!doc.conformant) continue;
          const validate = validators[doc.schema];
          if (!validate(doc.body)) {
            failures.push(
              `${peer.domain} ${peer.software} ${doc.schema}: ${JSON.stringify(validate.errors?.slice(0, 2))}`
            );
          }
          validated[peer.software] = (validated[peer.software] ?? 0) + 1;
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    // The kinds whose real captures pass (VALIDATION.md) are all represented.
    for (const kind of [
      'mastodon',
      'pleroma',
      'gotosocial',
      'peertube',
      'pixelfed',
      'firefish',
      'catodon',
      'funkwhale'
    ]) {
      expect(validated[kind], kind).toBeGreaterThan(0);
    }
  });

  it('the documents real software gets wrong are wrong in the same way', () => {
    const clock = new SimClock(start);
    const catalog = createPeerCatalog({
      seed: 7,
      count: 5000,
      ownDomain: 'social.coop.example',
      clock,
      failureRate: 0,
      ca
    });
    const reasons = new Set<string>();
    for (const peer of catalog.peers()) {
      for (const doc of catalog.nodeinfoDocuments(peer.domain)) {
        if (doc.conformant) continue;
        const validate = validators[doc.schema];
        expect(validate(doc.body), `${peer.domain} ${doc.schema} should fail`).toBe(false);
        for (const e of validate.errors ?? [])
          reasons.add(`${peer.software}: ${e.instancePath} ${e.message}`);
      }
    }
    const all = [...reasons].join('\n');
    expect(all).toMatch(/lemmy: {2}must have required property 'services'/);
    expect(all).toMatch(/mobilizon: \/software\/name must match pattern/);
    expect(all).toMatch(/misskey: \/usage\/users\/activeMonth must be integer/);
    expect(all).toMatch(/akkoma: \/openRegistrations must be boolean/);
    expect(all).toMatch(/wordpress: \/usage\/users\/total must be integer/);
  });

  it('covers the software mix seen in the wild', () => {
    const clock = new SimClock(start);
    const catalog = createPeerCatalog({
      seed: 1,
      count: 5000,
      ownDomain: 'social.coop.example',
      clock,
      failureRate: 0.15,
      ca
    });
    const seen = new Set(catalog.peers().map((p) => p.software));
    expect(seen.size).toBeGreaterThanOrEqual(SOFTWARE_NAMES.length - 2);
  });
});
