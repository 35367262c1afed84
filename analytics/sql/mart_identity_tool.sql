-- grain: one row per telemetry identity and tool (NULL: outcomes credited to no tool) in mart_person_day_tool,
-- over all history: the person it is (NULL when none matches), its first and last day, the first and last day
-- with tokens, and its totals. The Demand and Data pages' head counts and totals, summed once per refresh
-- instead of reading every person-day on every view.
CREATE OR REPLACE TABLE mart_identity_tool AS
SELECT identity, tool, user_id, is_attributed,
       min(day) AS first_day, max(day) AS last_day,
       min(day) FILTER (WHERE tokens > 0) AS first_active_day, max(day) FILTER (WHERE tokens > 0) AS last_active_day,
       CAST(sum(tokens) AS BIGINT) AS tokens, sum(cost_usd) AS cost_usd, CAST(sum(requests) AS BIGINT) AS requests
FROM mart_person_day_tool
GROUP BY identity, tool, user_id, is_attributed
ORDER BY identity, tool;
