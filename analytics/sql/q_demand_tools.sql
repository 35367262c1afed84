-- grain: one row per tool with usage: the people who used it (the tool filter of the demand page hides
-- tools fewer than k people used, as it hides small orgs)
SELECT tool, count(DISTINCT user_id) FILTER (WHERE is_attributed AND tokens > 0) AS people
FROM mart_person_day_tool
WHERE tool IS NOT NULL
GROUP BY tool
ORDER BY tool;
