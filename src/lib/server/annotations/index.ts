import { loadConfig } from '../config.ts';
import { AnnotationStore } from './store.ts';

export * from './store.ts';

// A JSON file replaced atomically: a few dozen rows need no SQL, and a second DuckDB file would hold a lock that backups and a second server process trip over.
export const annotationsFile = (dbPath: string): string => `${dbPath}.annotations.json`;

const stores = new Map<string, AnnotationStore>();

/** The store beside FEDIPULSE_DB (read when first asked, after the server has loaded .env). */
export function annotationStore(dbPath: string = loadConfig(process.env).dbPath): AnnotationStore {
  const file = annotationsFile(dbPath);
  let s = stores.get(file);
  if (!s) stores.set(file, (s = new AnnotationStore(file)));
  return s;
}
