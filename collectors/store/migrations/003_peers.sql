-- Peer servers: one observation per peer per crawl run; crawl state per host for politeness.

CREATE TABLE peer_hosts (
  domain VARCHAR PRIMARY KEY,
  state VARCHAR NOT NULL DEFAULT 'new',
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ,
  last_attempt_at TIMESTAMPTZ,
  last_outcome VARCHAR,
  first_seen_at TIMESTAMPTZ NOT NULL,
  -- users_total of the last ok observation, to flag impossible jumps without reading history.
  last_users_total BIGINT,
  last_ok_at TIMESTAMPTZ,
  -- raw_hash of the last NodeInfo document read: an unchanged document is not stored again.
  last_raw_hash VARCHAR
);

CREATE TABLE peer_obs (
  run_id INTEGER NOT NULL,
  domain VARCHAR NOT NULL,
  observed_at TIMESTAMPTZ NOT NULL,
  outcome VARCHAR NOT NULL CHECK (outcome IN ('ok', 'unreachable', 'timeout', 'tls_error', 'http_error', 'not_json',
    'invalid', 'too_large', 'redirect_refused', 'refused_address', 'robots_disallowed', 'gone')),
  http_status INTEGER,
  software VARCHAR,
  software_version VARCHAR,
  users_total BIGINT,
  users_active_month BIGINT,
  users_active_halfyear BIGINT,
  local_posts BIGINT,
  open_registrations BOOLEAN,
  suspect BOOLEAN NOT NULL DEFAULT false,
  suspect_reasons VARCHAR,
  nodeinfo_version VARCHAR,
  error VARCHAR,
  -- The NodeInfo document as served, by content hash (peer_raw_docs; read it through peer_obs_raw).
  raw_hash VARCHAR,
  -- The UTC day the crawl belongs to: a resumed crawl (new run id) continues the same day.
  crawl_day DATE,
  nodeinfo_url VARCHAR,
  node_name VARCHAR,
  quirks VARCHAR,
  instance_api VARCHAR,
  instance_title VARCHAR,
  instance_version VARCHAR,
  instance_user_count BIGINT,
  instance_active_month BIGINT,
  PRIMARY KEY (run_id, domain)
);

-- NodeInfo documents by content, written only when a host's document differs from its previous one (most
-- hosts serve the same text for days). No unique key, so no index to hold in memory: two hosts serving the
-- same text may each add a row, which peer_obs_raw folds.
CREATE TABLE peer_raw_docs (
  -- First 128 bits of the SHA-256 of the text, hex.
  hash VARCHAR NOT NULL,
  raw JSON NOT NULL
);

-- The NodeInfo document of each observation that read one.
CREATE VIEW peer_obs_raw AS
SELECT o.run_id, o.domain, o.observed_at, o.crawl_day, d.raw
FROM peer_obs o JOIN (SELECT hash, any_value(raw) AS raw FROM peer_raw_docs GROUP BY hash) d ON d.hash = o.raw_hash;

CREATE VIEW peer_observations AS
SELECT domain, observed_at, outcome, http_status, software, software_version, users_total, users_active_month,
       users_active_halfyear, local_posts, open_registrations, suspect, suspect_reasons, run_id, nodeinfo_version, error,
       crawl_day, nodeinfo_url, node_name, instance_title, instance_version
FROM peer_obs;

-- Only what concerns us: a peer's public block list naming our own domain (by name or digest).
CREATE TABLE peer_limit_obs (
  run_id INTEGER NOT NULL,
  peer_domain VARCHAR NOT NULL,
  observed_at TIMESTAMPTZ NOT NULL,
  severity VARCHAR NOT NULL,
  matched_by VARCHAR NOT NULL CHECK (matched_by IN ('domain', 'digest')),
  comment VARCHAR,
  PRIMARY KEY (run_id, peer_domain)
);

CREATE TABLE federation_days (
  day DATE PRIMARY KEY,
  run_id INTEGER NOT NULL,
  peers_known INTEGER NOT NULL,
  peers_reachable INTEGER NOT NULL,
  reach_users BIGINT NOT NULL,
  reach_active_month BIGINT NOT NULL
);

CREATE VIEW federation_daily AS
SELECT day, peers_known, peers_reachable, reach_users, reach_active_month FROM federation_days;

CREATE VIEW peer_latest AS
WITH latest AS (
  SELECT * FROM peer_obs QUALIFY row_number() OVER (PARTITION BY domain ORDER BY observed_at DESC, run_id DESC) = 1
)
SELECT h.domain, h.first_seen_at, coalesce(k.last_seen_at, h.last_attempt_at) AS last_seen_at,
       coalesce(k.in_peers_list, false) AS in_peers_list, l.outcome, l.software, l.software_version,
       l.users_total, l.users_active_month, l.observed_at, l.suspect
FROM peer_hosts h
LEFT JOIN known_peers k USING (domain)
LEFT JOIN latest l USING (domain);

-- A peer limits us from the first crawl that saw it to the last; a later crawl without it ends it.
CREATE VIEW peers_limiting_us AS
WITH last_ok AS (
  SELECT domain, max(observed_at) AS last_ok_at FROM peer_obs WHERE outcome = 'ok' GROUP BY domain
)
SELECT p.peer_domain, arg_max(p.severity, p.observed_at) AS severity, arg_max(p.matched_by, p.observed_at) AS matched_by,
       arg_max(p.comment, p.observed_at) AS comment, min(p.observed_at) AS first_seen_at, max(p.observed_at) AS last_seen_at
FROM peer_limit_obs p
LEFT JOIN last_ok o ON o.domain = p.peer_domain
GROUP BY p.peer_domain, o.last_ok_at
HAVING o.last_ok_at IS NULL OR max(p.observed_at) >= o.last_ok_at;
