-- The co-op's own server: everything its public and admin APIs say, kept past Mastodon's own expiry.

-- One value per (instance, day, metric). A value Mastodon revises is updated in place; the old value
-- goes to metric_revisions with when the change was seen.
CREATE TABLE metric_days (
  instance VARCHAR NOT NULL,
  day DATE NOT NULL,
  metric VARCHAR NOT NULL,
  value DOUBLE NOT NULL,
  source VARCHAR NOT NULL,
  first_seen_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  changed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (instance, day, metric)
);

CREATE TABLE metric_revisions (
  instance VARCHAR NOT NULL,
  day DATE NOT NULL,
  metric VARCHAR NOT NULL,
  old_value DOUBLE NOT NULL,
  new_value DOUBLE NOT NULL,
  seen_at TIMESTAMPTZ NOT NULL
);

CREATE VIEW daily_metrics AS
SELECT instance, day, metric, value, source, first_seen_at, changed_at
FROM metric_days;

-- What the instance says about itself at each collection (title, version, registrations, raw JSON).
CREATE TABLE instance_info (
  instance VARCHAR NOT NULL,
  run_id INTEGER NOT NULL,
  observed_at TIMESTAMPTZ NOT NULL,
  title VARCHAR,
  version VARCHAR,
  registrations_open BOOLEAN,
  approval_required BOOLEAN,
  raw_v1 JSON,
  raw_v2 JSON,
  domain VARCHAR,
  limited_federation BOOLEAN,
  PRIMARY KEY (instance, run_id)
);

-- Weekly rows of /api/v1/instance/activity (12 weeks served; all kept). week_start is the UTC day the week
-- starts on: Mastodon anchors its rolling weeks at request time, so the seconds vary between requests.
CREATE TABLE activity_weeks (
  instance VARCHAR NOT NULL,
  week_start TIMESTAMPTZ NOT NULL,
  statuses BIGINT NOT NULL,
  logins BIGINT NOT NULL,
  registrations BIGINT NOT NULL,
  observed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (instance, week_start)
);

-- Admin dimensions (languages, sources, servers, space_usage, software_versions) per collection day.
-- languages, sources and servers count the 30 days ending `day`; space_usage and software_versions are
-- as of `day` (Mastodon ignores the range for them). value is NULL for versions (see human_value).
CREATE TABLE dimension_days (
  instance VARCHAR NOT NULL,
  day DATE NOT NULL,
  dimension VARCHAR NOT NULL,
  key VARCHAR NOT NULL,
  human_key VARCHAR,
  value DOUBLE,
  unit VARCHAR,
  human_value VARCHAR,
  observed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (instance, day, dimension, key)
);

-- Every report, resolved or not. first_assigned_seen_at: the first collection that saw an assignee.
CREATE TABLE report_records (
  instance VARCHAR NOT NULL,
  report_id VARCHAR NOT NULL,
  category VARCHAR,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ,
  action_taken BOOLEAN NOT NULL DEFAULT false,
  action_taken_at TIMESTAMPTZ,
  forwarded BOOLEAN,
  target_origin VARCHAR,
  target_domain VARCHAR,
  assigned_account_id VARCHAR,
  first_assigned_seen_at TIMESTAMPTZ,
  rule_ids VARCHAR[],
  first_seen_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (instance, report_id)
);

CREATE VIEW reports AS
SELECT instance, report_id, category, created_at, action_taken_at AS resolved_at, action_taken, forwarded,
       target_origin, target_domain, first_assigned_seen_at, rule_ids
FROM report_records;

-- Retention as Mastodon computes it, kept as a change log: a row is added when a cell's value differs from
-- the last one kept (observed_at = when that value was first seen), so re-runs add nothing. The view
-- retention_cohorts shows the latest value; retention_period_activity the value in force when each period
-- ended, i.e. who was active in that period (Mastodon itself only knows each user's last sign-in).
CREATE TABLE retention_observations (
  instance VARCHAR NOT NULL,
  frequency VARCHAR NOT NULL CHECK (frequency IN ('day', 'month')),
  cohort DATE NOT NULL,
  period_index INTEGER NOT NULL,
  period_start DATE NOT NULL,
  users INTEGER NOT NULL,
  rate DOUBLE NOT NULL,
  observed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (instance, frequency, cohort, period_index, observed_at)
);

CREATE VIEW retention_cohorts AS
SELECT instance, frequency, cohort, period_index, arg_max(users, observed_at) AS users,
       arg_max(rate, observed_at) AS rate, max(observed_at) AS observed_at
FROM retention_observations
GROUP BY ALL;

CREATE VIEW retention_period_activity AS
SELECT instance, frequency, cohort, period_index, period_start,
       arg_max(users, observed_at) AS users, arg_max(rate, observed_at) AS rate, max(observed_at) AS observed_at
FROM retention_observations
WHERE observed_at < CASE WHEN frequency = 'day' THEN period_start + INTERVAL 1 DAY
                         ELSE period_start + INTERVAL 1 MONTH END
GROUP BY ALL;

-- Own domain blocks with their history: one row per domain, events for each add/change/remove.
CREATE TABLE domain_block_state (
  instance VARCHAR NOT NULL,
  domain VARCHAR NOT NULL,
  digest VARCHAR,
  severity VARCHAR,
  reject_media BOOLEAN,
  reject_reports BOOLEAN,
  public_comment VARCHAR,
  obfuscate BOOLEAN,
  first_seen_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  removed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ,
  PRIMARY KEY (instance, domain)
);

CREATE TABLE domain_block_events (
  instance VARCHAR NOT NULL,
  domain VARCHAR NOT NULL,
  event_at TIMESTAMPTZ NOT NULL,
  event VARCHAR NOT NULL CHECK (event IN ('added', 'changed', 'removed')),
  severity VARCHAR,
  reject_media BOOLEAN,
  reject_reports BOOLEAN,
  public_comment VARCHAR,
  PRIMARY KEY (instance, domain, event_at, event)
);

CREATE VIEW own_domain_blocks AS
SELECT instance, domain, digest, severity, reject_media, reject_reports, public_comment, first_seen_at, removed_at,
       obfuscate, last_seen_at, created_at
FROM domain_block_state;

-- The public list (/api/v1/instance/domain_blocks) as members and peers see it; names may be obfuscated,
-- so the digest (SHA-256 of the real name) is the key.
CREATE TABLE public_domain_blocks (
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

CREATE TABLE instance_rules (
  instance VARCHAR NOT NULL,
  rule_id VARCHAR NOT NULL,
  text VARCHAR NOT NULL,
  hint VARCHAR,
  first_seen_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  removed_at TIMESTAMPTZ,
  PRIMARY KEY (instance, rule_id)
);

-- Per-peer admin measures (instance_follows, instance_followers, ...) for the top peers: value is the day's
-- count, total Mastodon's all-time total as of observed_at.
CREATE TABLE peer_measure_days (
  instance VARCHAR NOT NULL,
  domain VARCHAR NOT NULL,
  day DATE NOT NULL,
  metric VARCHAR NOT NULL,
  value DOUBLE NOT NULL,
  total DOUBLE,
  observed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (instance, domain, day, metric)
);

-- The crawl list: every domain the own server's peers list has named, normalised.
CREATE TABLE known_peers (
  domain VARCHAR PRIMARY KEY,
  source VARCHAR NOT NULL DEFAULT 'peers_list',
  first_seen_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  in_peers_list BOOLEAN NOT NULL DEFAULT true
);
