-- grain: one row per day, tool, top-level org and model that has any usage (a tool with no row at all on a
-- day did not report that day: a gap, never a zero; see analytics/forecast.py)
-- Tokens are split three ways, consistently with mart_person_week: suspected = a flagged person's tokens in
-- their suspect weeks, declared automation excluded; automation = initiated_by = 'schedule'; genuine = the
-- rest (unattributed identities included). Token types and cost let pricing scenarios use the observed mix.
CREATE OR REPLACE TABLE mart_demand_day AS
WITH usage AS (
    SELECT day, tool, COALESCE(model, '(unknown)') AS model, user_id, CAST(date_trunc('week', day) AS DATE) AS week,
           sum(tokens) AS tokens, sum(tokens) FILTER (WHERE initiated_by = 'schedule') AS automation_tokens,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
           sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
           sum(cost_usd) AS cost_usd, sum(cost_usd) FILTER (WHERE initiated_by = 'schedule') AS automation_cost_usd
    FROM stg_usage GROUP BY ALL
)
SELECT u.day, u.tool, COALESCE(p.org_id, '(unattributed)') AS org_id,
       COALESCE(any_value(p.org_name), '(unattributed)') AS org_name, u.model,
       CAST(sum(u.tokens) AS BIGINT) AS tokens,
       CAST(sum(CASE WHEN w.is_suspected THEN u.tokens - COALESCE(u.automation_tokens, 0) ELSE 0 END) AS BIGINT)
           AS suspected_tokens,
       CAST(COALESCE(sum(u.automation_tokens), 0) AS BIGINT) AS automation_tokens,
       CAST(sum(u.tokens - COALESCE(u.automation_tokens, 0)
                - CASE WHEN w.is_suspected THEN u.tokens - COALESCE(u.automation_tokens, 0) ELSE 0 END) AS BIGINT)
           AS genuine_tokens,
       CAST(sum(u.input_tokens) AS BIGINT) AS input_tokens, CAST(sum(u.output_tokens) AS BIGINT) AS output_tokens,
       CAST(sum(u.cache_read_tokens) AS BIGINT) AS cache_read_tokens,
       CAST(sum(u.cache_write_tokens) AS BIGINT) AS cache_write_tokens,
       sum(u.cost_usd) AS cost_usd,
       sum(CASE WHEN w.is_suspected THEN u.cost_usd - COALESCE(u.automation_cost_usd, 0) ELSE 0 END)
           AS suspected_cost_usd,
       COALESCE(sum(u.automation_cost_usd), 0) AS automation_cost_usd
FROM usage u
LEFT JOIN dim_people p ON p.user_id = u.user_id
LEFT JOIN mart_person_week w ON w.user_id = u.user_id AND w.week = u.week
GROUP BY u.day, u.tool, COALESCE(p.org_id, '(unattributed)'), u.model
ORDER BY u.day, u.tool, org_id, u.model;
