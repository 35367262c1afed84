-- grain: one row per tool with usage: people = the attributed people who used it in the last 28 days of data
-- (a tool nobody used in that time, e.g. one that stopped reporting, has 0); people_ever = at any time, the
-- size k-anonymity is judged on (the tool's series covers all history)
WITH last AS (
    SELECT max(day) AS d FROM mart_person_day_tool
)
SELECT tool, count(DISTINCT user_id) FILTER (WHERE is_attributed AND tokens > 0 AND day > last.d - 28) AS people,
       count(DISTINCT user_id) FILTER (WHERE is_attributed AND tokens > 0) AS people_ever
FROM mart_person_day_tool, last
WHERE tool IS NOT NULL
GROUP BY tool
ORDER BY tool;
