-- grain: one row per source (tool): what it sent, over which days, how fresh
SELECT m.tool, COALESCE(s.grain, 'outcomes only') AS grain, sum(m.requests) AS requests,
       CAST(sum(m.tokens) AS BIGINT) AS tokens, round(sum(m.cost_usd), 2) AS cost_usd,
       sum(m.real_outcomes) AS real_outcomes, min(m.day) AS first_day, max(m.day) AS last_day,
       count(DISTINCT m.day) AS days_with_data
FROM mart_person_day_tool m LEFT JOIN tool_sources s USING (tool)
GROUP BY ALL ORDER BY tokens DESC;
