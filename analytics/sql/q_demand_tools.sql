-- grain: one row per tool with usage: people = the attributed people who used it in the last 28 days of data
-- (the tool filter of the demand page hides tools fewer than k people used lately, as it hides small orgs;
-- a tool nobody used in that time, e.g. one that stopped reporting, has 0)
WITH last AS (
    SELECT max(day) AS d FROM mart_person_day_tool
)
SELECT tool, count(DISTINCT user_id) FILTER (WHERE is_attributed AND tokens > 0 AND day > last.d - 28) AS people
FROM mart_person_day_tool, last
WHERE tool IS NOT NULL
GROUP BY tool
ORDER BY tool;
