-- grain: one row per tool with usage: people = the attributed people who used it in the last 28 days of data
-- (a tool nobody used in that time, e.g. one that stopped reporting, has 0); people_ever = at any time, the
-- size k-anonymity is judged on (the tool's series covers all history). From each identity's first and last day
-- with tokens per tool (mart_identity_tool): someone used a tool in the last 28 days when their last such day is.
WITH last AS (
    SELECT max(last_day) AS d FROM mart_identity_tool
)
SELECT tool,
       count(DISTINCT user_id) FILTER (WHERE is_attributed AND last_active_day > last.d - 28) AS people,
       count(DISTINCT user_id) FILTER (WHERE is_attributed AND last_active_day IS NOT NULL) AS people_ever
FROM mart_identity_tool, last
WHERE tool IS NOT NULL
GROUP BY tool
ORDER BY tool;
