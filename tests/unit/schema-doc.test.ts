import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { schemaMarkdown } from '../../scripts/schema-doc.ts';

it('docs/schema.md is up to date with the migrations (regenerate: npx node scripts/schema-doc.ts)', async () => {
  const file = readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'schema.md'), 'utf8');
  expect(file).toBe(await schemaMarkdown());
});
