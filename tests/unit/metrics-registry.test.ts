import { describe, expect, it } from 'vitest';
import { KPIS, REGISTRY, toCsv } from '../../src/lib/server/metrics/index.ts';
import { PAGES } from '../../src/lib/components/nav.ts';
import { current, renderMetricsDoc } from '../../scripts/metrics-doc.ts';

describe('metric registry', () => {
  it('docs/metrics.md is generated from the registry (run: npx node scripts/metrics-doc.ts)', async () => {
    expect(current()).toBe(await renderMetricsDoc());
  });

  it('every metric has a unique key, a title, a written definition and a page that exists', () => {
    const keys = new Set<string>();
    for (const m of [...REGISTRY, ...KPIS]) {
      expect(m.title.length, m.key).toBeGreaterThan(2);
      expect(m.definition.length, m.key).toBeGreaterThan(40);
      expect(['public', 'board', 'ops']).toContain(m.audience);
    }
    for (const m of REGISTRY) {
      expect(keys.has(m.key), m.key).toBe(false);
      keys.add(m.key);
      expect(PAGES.map((p) => p.key)).toContain(m.page);
      expect(m.key).toMatch(/^[a-z0-9_]+$/);
    }
  });

  it('CSV export quotes commas and quotes, and defuses spreadsheet formulas', () => {
    const csv = toCsv({
      columns: [
        { key: 'domain', title: 'Domain', unit: 'text' },
        { key: 'n', title: 'N', unit: 'count' }
      ],
      rows: [
        ['a,b', 1],
        ['say "hi"', null],
        ['=cmd()', 2]
      ]
    });
    // A formula is defused with a leading apostrophe (src/lib/server/csv.ts), not merely quoted.
    expect(csv).toBe(`domain,n\r\n"a,b",1\r\n"say ""hi""",\r\n'=cmd(),2\r\n`);
  });
});
