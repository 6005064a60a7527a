import { error } from '@sveltejs/kit';
import { loadConfig, loadDotEnv } from './config.ts';
import { currentSnapshot } from './snapshot.ts';
import type { Db } from '../../../collectors/store/database.ts';

loadDotEnv();
export const config = loadConfig();

/** The data for a page, or null when nothing has been collected yet (pages show what to configure). */
export async function dataOrNull(): Promise<Db | null> {
  return (await currentSnapshot(config.dbPath)).db;
}

export async function data(): Promise<Db> {
  const db = await dataOrNull();
  if (!db) error(503, 'No data collected yet: run `npm run collect -- all` (see README).');
  return db;
}
