-- Finances: the treasurer's ledger and Open Collective, in one table of money movements (docs/finances.md).
-- Amounts are exact (DECIMAL); amount_base is the amount in the base currency at the treasurer's rate.
CREATE TABLE finance_entries (
  entry_key VARCHAR PRIMARY KEY,
  source VARCHAR NOT NULL CHECK (source IN ('ledger', 'opencollective')),
  day DATE NOT NULL,
  direction VARCHAR NOT NULL CHECK (direction IN ('income', 'expense', 'opening')),
  category VARCHAR NOT NULL,
  counterparty VARCHAR,
  note VARCHAR,
  currency VARCHAR NOT NULL,
  amount DECIMAL(18, 2) NOT NULL,
  fx_rate DOUBLE NOT NULL,
  amount_base DECIMAL(18, 2) NOT NULL,
  origin VARCHAR,
  first_seen_run INTEGER,
  first_seen_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL
);

-- What the last import of each source could not read (replaced at each import), for the board page.
CREATE TABLE finance_issues (
  source VARCHAR NOT NULL,
  line INTEGER,
  message VARCHAR NOT NULL,
  run_id INTEGER,
  seen_at TIMESTAMPTZ NOT NULL
);

-- Balances a source reports itself (Open Collective's stats.balance), to check the books against.
CREATE TABLE finance_balances (
  source VARCHAR NOT NULL,
  as_of TIMESTAMPTZ NOT NULL,
  currency VARCHAR NOT NULL,
  amount DECIMAL(18, 2) NOT NULL,
  amount_base DECIMAL(18, 2),
  run_id INTEGER,
  PRIMARY KEY (source, as_of)
);

-- The treasurer's settings, copied into the settings table by each finance collection.
CREATE VIEW finance_settings AS
SELECT
  coalesce((SELECT value FROM settings WHERE key = 'finance.base_currency'), 'EUR') AS base_currency,
  coalesce(TRY_CAST((SELECT value FROM settings WHERE key = 'finance.reserve_months') AS DOUBLE), 6) AS reserve_months,
  TRY_CAST((SELECT value FROM settings WHERE key = 'finance.storage_price_per_gb_month') AS DOUBLE) AS storage_price_per_gb_month;

-- One row per month from the first to the last entry (months without entries show 0, not a gap):
-- income, expenses, net, opening balances, and the balance at the month's end.
CREATE VIEW finance_monthly_totals AS
WITH bounds AS (
  SELECT date_trunc('month', min(day)) AS first_month, date_trunc('month', max(day)) AS last_month FROM finance_entries
), months AS (
  SELECT unnest(generate_series(first_month::TIMESTAMP, last_month::TIMESTAMP, INTERVAL 1 MONTH))::DATE AS month
  FROM bounds WHERE first_month IS NOT NULL
), sums AS (
  SELECT date_trunc('month', day)::DATE AS month,
         coalesce(sum(amount_base) FILTER (WHERE direction = 'income'), 0) AS income,
         coalesce(sum(amount_base) FILTER (WHERE direction = 'expense'), 0) AS expenses,
         coalesce(sum(amount_base) FILTER (WHERE direction = 'opening'), 0) AS opening
  FROM finance_entries GROUP BY 1
)
SELECT m.month,
       (m.month + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS month_end,
       coalesce(s.income, 0)::DOUBLE AS income,
       coalesce(s.expenses, 0)::DOUBLE AS expenses,
       (coalesce(s.income, 0) - coalesce(s.expenses, 0))::DOUBLE AS net,
       coalesce(s.opening, 0)::DOUBLE AS opening,
       sum(coalesce(s.opening, 0) + coalesce(s.income, 0) - coalesce(s.expenses, 0))
         OVER (ORDER BY m.month)::DOUBLE AS balance,
       (SELECT base_currency FROM finance_settings) AS currency
FROM months m LEFT JOIN sums s USING (month);

-- Long format: month, direction (income/expense), category, amount (base currency), and the month-end balance.
CREATE VIEW finance_monthly AS
SELECT date_trunc('month', e.day)::DATE AS month,
       e.direction,
       e.category,
       sum(e.amount_base)::DOUBLE AS amount,
       count(*)::INTEGER AS entries,
       any_value(t.balance) AS balance,
       any_value(t.currency) AS currency
FROM finance_entries e
JOIN finance_monthly_totals t ON t.month = date_trunc('month', e.day)::DATE
WHERE e.direction IN ('income', 'expense')
GROUP BY 1, 2, 3;

-- Members and active members (Mastodon's active_month) at each month's end: the last value seen in the month.
CREATE VIEW finance_member_months AS
WITH per_instance AS (
  SELECT instance, date_trunc('month', day)::DATE AS month, metric, arg_max(value, day) AS value
  FROM daily_metrics
  WHERE metric IN ('user_count', 'active_month')
  GROUP BY instance, date_trunc('month', day)::DATE, metric
)
SELECT month,
       sum(value) FILTER (WHERE metric = 'user_count') AS members,
       sum(value) FILTER (WHERE metric = 'active_month') AS active_members
FROM per_instance GROUP BY month;

-- The board's measures per month: monthly cost, cost per (active) member, net burn and runway over the
-- last three months, and the reserve target (reserve_months × the average monthly cost).
CREATE VIEW finance_measures AS
WITH t AS (
  SELECT *,
         avg(expenses) OVER w3 AS avg_cost_3m,
         avg(expenses - income) OVER w3 AS net_burn_3m,
         count(*) OVER w3 AS months_in_window
  FROM finance_monthly_totals
  WINDOW w3 AS (ORDER BY month ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
)
SELECT t.month,
       t.month_end,
       t.currency,
       t.income,
       t.expenses AS monthly_cost,
       t.net,
       t.balance,
       mm.members,
       mm.active_members,
       CASE WHEN mm.members > 0 THEN t.expenses / mm.members END AS cost_per_member,
       CASE WHEN mm.active_members > 0 THEN t.expenses / mm.active_members END AS cost_per_active_member,
       t.avg_cost_3m,
       t.net_burn_3m,
       t.months_in_window::INTEGER AS months_in_window,
       CASE WHEN t.net_burn_3m > 0 THEN greatest(t.balance, 0) / t.net_burn_3m END AS runway_months,
       t.net_burn_3m <= 0 AS runway_unbounded,
       CASE WHEN t.avg_cost_3m > 0 THEN t.balance / t.avg_cost_3m END AS cost_cover_months,
       s.reserve_months,
       s.reserve_months * t.avg_cost_3m AS reserve_target,
       t.balance >= s.reserve_months * t.avg_cost_3m AS reserve_met
FROM t
LEFT JOIN finance_member_months mm USING (month)
CROSS JOIN finance_settings s;
