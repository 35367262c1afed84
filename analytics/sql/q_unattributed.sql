-- grain: one row per telemetry identity that no person matches: its usage, so it can be mapped
SELECT identity, list(DISTINCT tool ORDER BY tool) AS tools, CAST(sum(tokens) AS BIGINT) AS tokens,
       sum(cost_usd) AS cost_usd, min(day) AS first_day, max(day) AS last_day
FROM mart_person_day_tool WHERE NOT is_attributed GROUP BY identity ORDER BY tokens DESC;
