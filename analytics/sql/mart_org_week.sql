-- grain: one row per top-level org and week: headcount, scoreboard-active and outcome-backed people
CREATE OR REPLACE TABLE mart_org_week AS
SELECT week, org_id, count(*) AS headcount, count(*) FILTER (WHERE is_active) AS active,
       count(*) FILTER (WHERE is_outcome_backed) AS real_active,
       count(*) FILTER (WHERE is_active AND uses_outcome_source) AS active_with_outcome_source,
       CAST(sum(tokens) AS BIGINT) AS tokens, sum(cost_usd) AS cost_usd, sum(real_outcomes) AS real_outcomes
FROM mart_person_week GROUP BY week, org_id ORDER BY week, org_id;
