import path from 'node:path';
import { expect, it } from 'vitest';
import { closeWriter, openWriter } from '../../collectors/store/database.ts';
import { tempDir } from '../helpers/index.ts';

/**
 * Migration 008 on a database collected before it: the version of every earlier collection (kept in
 * instance_info) becomes its server_versions row, so version-dependent numbers can be read back in time.
 */
it('008 fills server_versions from the versions earlier collections kept', async () => {
  const file = path.join(tempDir(), 'fp.duckdb');
  let db = await openWriter(file, 'test');
  // The state of a database before 008: runs with instance_info, and no server_versions yet
  await db.run(`INSERT INTO instance_info (instance, run_id, observed_at, title, version) VALUES
    ('coop.example', 1, '2025-06-30T06:00:00Z', 'Co-op', '4.3.6'),
    ('coop.example', 2, '2025-07-11T06:00:00Z', 'Co-op', '4.4.1'),
    ('coop.example', 3, '2025-07-12T06:00:00Z', 'Co-op', NULL)`);
  await db.run('DROP TABLE server_versions');
  await db.run('DELETE FROM schema_migrations WHERE version = 8');
  closeWriter(db);

  db = await openWriter(file, 'test');
  try {
    const rows = await db.all<{ run_id: number; version: string; source: string; at: string }>(
      `SELECT run_id, version, source, strftime(observed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M') AS at
       FROM server_versions ORDER BY run_id`
    );
    expect(rows).toEqual([
      { run_id: 1, version: '4.3.6', source: 'instance', at: '2025-06-30T06:00' },
      { run_id: 2, version: '4.4.1', source: 'instance', at: '2025-07-11T06:00' }
    ]);
  } finally {
    closeWriter(db);
  }
});
