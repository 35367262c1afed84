-- grain: one row per telemetry identity that no person matches: which tools, how much, first and last day
-- (from its per tool totals in mart_identity_tool)
SELECT identity, string_agg(DISTINCT tool, ', ' ORDER BY tool) AS tools, CAST(sum(tokens) AS BIGINT) AS tokens,
       sum(cost_usd) AS cost_usd, CAST(sum(requests) AS BIGINT) AS requests, min(first_day) AS first_day,
       max(last_day) AS last_day
FROM mart_identity_tool
WHERE NOT is_attributed
GROUP BY identity
ORDER BY tokens DESC, identity;
