-- Moderation and retention definitions (issues "Numbers proven true", parts one and two).

-- Who filed a report: the reporter's server (Admin::Report `account.domain`). NULL for our own members; for a
-- report received from another server it is that server (its instance actor files it). Old rows are unknown
-- until the next collection re-reads every report and fills it in.
ALTER TABLE report_records ADD COLUMN reporter_domain VARCHAR;

-- A report already assigned the first time fedipulse saw it has no known assignment time. Earlier builds
-- stamped it with that first sighting, which puts months or years into "time to first assignment" for every
-- report older than the installation. The time is known (to within one collection) only when no earlier
-- collection of reports could have seen the report: it was filed after the last collection of reports that
-- had finished before the one that first saw it. Everything else about the report is kept.
UPDATE report_records AS x SET first_assigned_seen_at = NULL
WHERE x.first_assigned_seen_at IS NOT NULL AND x.first_assigned_seen_at = x.first_seen_at
  AND x.created_at < coalesce((
    SELECT max(r.started_at) FROM runs r JOIN run_sources s ON s.run_id = r.run_id
    WHERE s.source = 'admin.reports' AND s.status IN ('ok', 'partial') AND s.finished_at < x.first_seen_at
  ), 'infinity'::TIMESTAMPTZ);

-- assigned: a moderator was assigned at the last collection (with first_assigned_seen_at NULL: assigned
-- before fedipulse first saw the report, so left out of "time to first assignment").
CREATE OR REPLACE VIEW reports AS
SELECT instance, report_id, category, created_at, action_taken_at AS resolved_at, action_taken, forwarded,
       target_origin, target_domain, reporter_domain, first_assigned_seen_at, rule_ids,
       assigned_account_id IS NOT NULL AS assigned
FROM report_records;

-- When Mastodon last reported each retention cohort. Since 4.4.21, 4.5.14 and 4.6.4 it answers only the last
-- 12 months (31 days), so an older cohort's cells stop changing: they are the value as last seen, not today's.
-- Existing databases start from the last change kept, a time the cohort was certainly reported.
CREATE TABLE retention_reported (
  instance VARCHAR NOT NULL,
  frequency VARCHAR NOT NULL,
  cohort DATE NOT NULL,
  last_reported_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (instance, frequency, cohort)
);
INSERT INTO retention_reported
SELECT instance, frequency, cohort, max(observed_at) FROM retention_observations GROUP BY ALL;
