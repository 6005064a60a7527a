-- Baseline repair. 002 and 003 were edited after they had shipped, and a database records a migration by its
-- number only, so a database created by an earlier build never got what the edits added (peer_obs.crawl_day
-- first of all). This brings a database created by any earlier build to the baseline schema, that of
-- 001, 002, 003 and 005 as they are now; on a database created since, it changes nothing. Every statement is
-- idempotent. It runs right after 005, before 006-008 (collectors/store/database.ts), since those assume the
-- baseline. Earlier shapes it repairs: 002 as first shipped (882899a), 003 as first shipped (6b15d41) and as
-- of 18b4aaf (5e504f4); copies are in tests/fixtures/old-migrations/.

-- 002: columns added after it shipped (unknown for old rows; the next collection fills them in).
ALTER TABLE instance_info ADD COLUMN IF NOT EXISTS domain VARCHAR;
ALTER TABLE instance_info ADD COLUMN IF NOT EXISTS limited_federation BOOLEAN;
ALTER TABLE domain_block_state ADD COLUMN IF NOT EXISTS created_at TIMESTAMPTZ;

-- What the instance said about itself is kept verbatim, so the two facts are read back out of it.
UPDATE instance_info
SET domain = coalesce(json_extract_string(raw_v2, '$.domain'), json_extract_string(raw_v1, '$.uri'))
WHERE domain IS NULL AND (raw_v2 IS NOT NULL OR raw_v1 IS NOT NULL);
UPDATE instance_info
SET limited_federation = TRY_CAST(json_extract(raw_v2, '$.configuration.limited_federation') AS BOOLEAN)
WHERE limited_federation IS NULL AND raw_v2 IS NOT NULL;

CREATE TABLE IF NOT EXISTS public_domain_blocks (
  instance VARCHAR NOT NULL,
  digest VARCHAR NOT NULL,
  domain VARCHAR NOT NULL,
  severity VARCHAR NOT NULL,
  comment VARCHAR,
  first_seen_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  removed_at TIMESTAMPTZ,
  PRIMARY KEY (instance, digest)
);

CREATE OR REPLACE VIEW retention_period_activity AS
SELECT instance, frequency, cohort, period_index, period_start,
       arg_max(users, observed_at) AS users, arg_max(rate, observed_at) AS rate, max(observed_at) AS observed_at
FROM retention_observations
WHERE observed_at < CASE WHEN frequency = 'day' THEN period_start + INTERVAL 1 DAY
                         ELSE period_start + INTERVAL 1 MONTH END
GROUP BY ALL;

CREATE OR REPLACE VIEW own_domain_blocks AS
SELECT instance, domain, digest, severity, reject_media, reject_reports, public_comment, first_seen_at, removed_at,
       obfuscate, last_seen_at, created_at
FROM domain_block_state;

-- 003: host state and observation columns added after it shipped. DuckDB cannot commit a transaction that
-- updates a table and then alters it, so every ALTER on peer_obs comes before the first UPDATE of it.
ALTER TABLE peer_hosts ADD COLUMN IF NOT EXISTS last_users_total BIGINT;
ALTER TABLE peer_hosts ADD COLUMN IF NOT EXISTS last_ok_at TIMESTAMPTZ;
ALTER TABLE peer_hosts ADD COLUMN IF NOT EXISTS last_raw_hash VARCHAR;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS raw_hash VARCHAR;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS crawl_day DATE;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS nodeinfo_url VARCHAR;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS node_name VARCHAR;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS quirks VARCHAR;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS instance_api VARCHAR;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS instance_title VARCHAR;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS instance_version VARCHAR;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS instance_user_count BIGINT;
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS instance_active_month BIGINT;

-- NodeInfo documents move out of peer_obs.raw into peer_raw_docs, keyed as the writer keys them (the first 128
-- bits of the SHA-256 of the text). On a database that never had peer_obs.raw, the column is added empty and
-- dropped again, so the same statements serve every shape.
CREATE TABLE IF NOT EXISTS peer_raw_docs (
  hash VARCHAR NOT NULL,
  raw JSON NOT NULL
);
ALTER TABLE peer_obs ADD COLUMN IF NOT EXISTS raw JSON;
CREATE OR REPLACE TEMP TABLE repair_raw AS
SELECT run_id, domain, left(sha256(CAST(raw AS VARCHAR)), 32) AS hash, raw FROM peer_obs WHERE raw IS NOT NULL;
ALTER TABLE peer_obs DROP COLUMN raw;
INSERT INTO peer_raw_docs (hash, raw)
SELECT hash, any_value(raw) FROM repair_raw WHERE hash NOT IN (SELECT hash FROM peer_raw_docs) GROUP BY hash;
UPDATE peer_obs SET raw_hash = r.hash
FROM repair_raw r
WHERE r.run_id = peer_obs.run_id AND r.domain = peer_obs.domain AND peer_obs.raw_hash IS NULL;
DROP TABLE repair_raw;

-- The crawl day of an old observation: the UTC day its run started (builds without crawl_day had no resumed
-- crawls, so a run was a crawl); the observation's own UTC day when the run is not recorded.
UPDATE peer_obs
SET crawl_day = coalesce(
  (SELECT CAST(timezone('UTC', r.started_at) AS DATE) FROM runs r WHERE r.run_id = peer_obs.run_id),
  CAST(timezone('UTC', observed_at) AS DATE))
WHERE crawl_day IS NULL;

-- What the crawler remembers per host, from the host's latest (ok) observation.
UPDATE peer_hosts
SET last_users_total = o.users_total, last_ok_at = o.observed_at
FROM (SELECT domain, arg_max(users_total, observed_at) AS users_total, max(observed_at) AS observed_at
      FROM peer_obs WHERE outcome = 'ok' GROUP BY domain) o
WHERE o.domain = peer_hosts.domain AND peer_hosts.last_ok_at IS NULL;
UPDATE peer_hosts
SET last_raw_hash = o.raw_hash
FROM (SELECT domain, arg_max(raw_hash, observed_at) AS raw_hash FROM peer_obs WHERE raw_hash IS NOT NULL GROUP BY domain) o
WHERE o.domain = peer_hosts.domain AND peer_hosts.last_raw_hash IS NULL;

CREATE OR REPLACE VIEW peer_obs_raw AS
SELECT o.run_id, o.domain, o.observed_at, o.crawl_day, d.raw
FROM peer_obs o JOIN (SELECT hash, any_value(raw) AS raw FROM peer_raw_docs GROUP BY hash) d ON d.hash = o.raw_hash;

CREATE OR REPLACE VIEW peer_observations AS
SELECT domain, observed_at, outcome, http_status, software, software_version, users_total, users_active_month,
       users_active_halfyear, local_posts, open_registrations, suspect, suspect_reasons, run_id, nodeinfo_version, error,
       crawl_day, nodeinfo_url, node_name, instance_title, instance_version
FROM peer_obs;
