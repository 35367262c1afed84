-- grain: one row per week, top-level org ('(unattributed)' for identities no person matches) and tool
-- A definition (analytics/marts.py builds or updates the table from it): the weeks [$lo, $hi].
SELECT m.week, COALESCE(p.org_id, '(unattributed)') AS org_id, m.tool,
       CAST(sum(m.input_tokens) AS BIGINT) AS input_tokens, CAST(sum(m.output_tokens) AS BIGINT) AS output_tokens,
       CAST(sum(m.cache_read_tokens) AS BIGINT) AS cache_read_tokens, CAST(sum(m.cache_write_tokens) AS BIGINT) AS cache_write_tokens,
       CAST(sum(m.tokens) AS BIGINT) AS tokens, sum(m.cost_usd) AS cost_usd, CAST(sum(m.requests) AS BIGINT) AS requests,
       sum(m.real_outcomes) AS real_outcomes, count(DISTINCT m.identity) FILTER (WHERE m.requests > 0) AS users
FROM mart_person_day_tool m LEFT JOIN dim_people p ON p.user_id = m.user_id
WHERE m.week BETWEEN $lo AND $hi
GROUP BY ALL ORDER BY week, org_id, tool
