-- Federation rollups per crawl day that the federation page used to compute from every raw observation of its
-- range (550 ms over a year of 30,000-peer crawls): the software mix and the peers limiting us by severity.
-- The rule lives once, in the macros below: collectors/store/peers.ts rollupFederationDay calls them for the
-- day it rolls up, and this migration calls them once over every day already rolled up (federation_days).

-- Each peer's latest observation of each crawl day from d1 to d2 (a resumed crawl spans two runs).
CREATE OR REPLACE MACRO peer_day_obs(d1, d2) AS TABLE
SELECT * FROM peer_obs WHERE crawl_day BETWEEN d1 AND d2
QUALIFY row_number() OVER (PARTITION BY crawl_day, domain ORDER BY observed_at DESC, run_id DESC) = 1;

-- Reachable peers by the software their NodeInfo names (lower case), with their users; suspect entries left out.
CREATE OR REPLACE MACRO federation_software_rows(d1, d2) AS TABLE
SELECT crawl_day AS day, coalesce(lower(software), 'unknown') AS software, count(*) AS peers,
       coalesce(sum(users_total), 0) AS users, coalesce(sum(users_active_month), 0) AS active_month
FROM peer_day_obs(d1, d2) WHERE outcome = 'ok' AND NOT suspect GROUP BY ALL;

-- Peers whose latest answer of the day named our domain in their public block list, by severity.
CREATE OR REPLACE MACRO federation_limit_rows(d1, d2) AS TABLE
SELECT o.crawl_day AS day, count(*) FILTER (l.severity = 'suspend') AS suspend,
       count(*) FILTER (l.severity = 'silence') AS silence,
       count(*) FILTER (l.severity NOT IN ('suspend', 'silence')) AS other
FROM peer_day_obs(d1, d2) o JOIN peer_limit_obs l ON l.run_id = o.run_id AND l.peer_domain = o.domain
GROUP BY 1;

CREATE TABLE IF NOT EXISTS federation_software_daily (
  day DATE NOT NULL,
  software VARCHAR NOT NULL,
  peers INTEGER NOT NULL,
  users BIGINT NOT NULL,
  active_month BIGINT NOT NULL,
  PRIMARY KEY (day, software)
);

-- A crawl day rolled up with no peer limiting us has no row here (read as zeros).
CREATE TABLE IF NOT EXISTS federation_limits_daily (
  day DATE PRIMARY KEY,
  suspend INTEGER NOT NULL,
  silence INTEGER NOT NULL,
  other INTEGER NOT NULL
);

-- Backfill: every crawl day already rolled up, by the same macros.
INSERT INTO federation_software_daily
SELECT * FROM federation_software_rows(DATE '0001-01-01', DATE '9999-12-31')
WHERE day IN (SELECT day FROM federation_days);

INSERT INTO federation_limits_daily
SELECT * FROM federation_limit_rows(DATE '0001-01-01', DATE '9999-12-31')
WHERE day IN (SELECT day FROM federation_days);
