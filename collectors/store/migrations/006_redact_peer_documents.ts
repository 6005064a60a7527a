/**
 * Migration 006's hook (see 006_redact_peer_documents.sql): redacts the NodeInfo documents stored before
 * issue 14 with the crawler's own redaction (storedNodeinfoText), so old and new documents keep the same
 * fields. Runs inside migrate()'s transaction: all documents are redacted, or none.
 */
import { rawHash } from '../peers.ts';
import { storedNodeinfoText } from '../../peers/redact.ts';
import type { Db } from '../database.ts';

/** Documents read per query: the table can hold hundreds of thousands. */
const PAGE = 2000;

export async function redactPeerDocuments(db: Db): Promise<void> {
  await db.run(
    'CREATE OR REPLACE TEMP TABLE peer_doc_redactions (old_hash VARCHAR, new_hash VARCHAR, raw VARCHAR)'
  );
  const a = await db.conn.createAppender('peer_doc_redactions', 'main', 'temp');
  let changed = 0;
  for (let after = -1n; ;) {
    const rows = await db.all<{ id: number; hash: string; raw: string }>(
      'SELECT rowid AS id, hash, raw::VARCHAR AS raw FROM peer_raw_docs WHERE rowid > $1 ORDER BY rowid LIMIT $2',
      [after, PAGE]
    );
    if (rows.length === 0) break;
    after = BigInt(rows[rows.length - 1].id);
    for (const r of rows) {
      // A document that does not parse any more (none should) is dropped rather than kept unredacted.
      const text = storedNodeinfoText(r.raw);
      if (text === r.raw) continue;
      a.appendVarchar(r.hash);
      if (text === null) {
        a.appendNull();
        a.appendNull();
      } else {
        a.appendVarchar(rawHash(text));
        a.appendVarchar(text);
      }
      a.endRow();
      changed++;
    }
  }
  a.closeSync();
  if (changed > 0) {
    await db.run(`DELETE FROM peer_raw_docs WHERE hash IN (SELECT old_hash FROM peer_doc_redactions)`);
    await db.run(
      `INSERT INTO peer_raw_docs (hash, raw)
       SELECT new_hash, any_value(raw)::JSON FROM peer_doc_redactions WHERE new_hash IS NOT NULL GROUP BY new_hash`
    );
    const map = `(SELECT DISTINCT old_hash, new_hash FROM peer_doc_redactions)`;
    await db.run(
      `UPDATE peer_obs SET raw_hash = m.new_hash FROM ${map} m WHERE peer_obs.raw_hash = m.old_hash`
    );
    await db.run(
      `UPDATE peer_hosts SET last_raw_hash = m.new_hash FROM ${map} m WHERE peer_hosts.last_raw_hash = m.old_hash`
    );
  }
  await db.run('DROP TABLE peer_doc_redactions');
}
