-- Collection runs and what each source of a run did. A run still 'running' when the next writer
-- opens the database was interrupted (killed, crashed); the next writer marks it 'failed'.
CREATE SEQUENCE run_id_seq START 1;

CREATE TABLE runs (
  run_id INTEGER PRIMARY KEY DEFAULT nextval('run_id_seq'),
  kind VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ,
  status VARCHAR NOT NULL CHECK (status IN ('ok', 'partial', 'failed', 'running')),
  items INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  message VARCHAR,
  pid INTEGER
);

-- One row per source a run touched: what it got, and if not, why (gaps are recorded, not hidden).
CREATE TABLE run_sources (
  run_id INTEGER NOT NULL,
  source VARCHAR NOT NULL,
  status VARCHAR NOT NULL CHECK (status IN ('ok', 'partial', 'failed', 'skipped')),
  items INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  message VARCHAR,
  finished_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (run_id, source)
);

-- Small facts about this database: own_domain, simulated ('true' when fed by the simulator), ...
CREATE TABLE settings (
  key VARCHAR PRIMARY KEY,
  value VARCHAR
);

CREATE VIEW collection_runs AS
SELECT run_id, kind, started_at, finished_at, status, items, errors, message
FROM runs;
