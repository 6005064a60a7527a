-- The own server's Mastodon version at every collection, so that numbers whose meaning changed between
-- versions (docs/collector.md, "Versions checked") can be read with the version in force on their day.
-- source: where the version was read (instance: /api/v2|v1/instance; nodeinfo: software.version).
CREATE TABLE server_versions (
  instance VARCHAR NOT NULL,
  run_id INTEGER NOT NULL,
  observed_at TIMESTAMPTZ NOT NULL,
  version VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  PRIMARY KEY (instance, run_id)
);

-- Collections made before this release: instance_info already kept the version of each run.
INSERT INTO server_versions (instance, run_id, observed_at, version, source)
SELECT instance, run_id, observed_at, version, 'instance' FROM instance_info WHERE version IS NOT NULL;
