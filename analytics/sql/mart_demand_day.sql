-- grain: one row per day, tool, top-level org and model that has any usage (a tool with no row at all on a
-- day did not report that day: a gap, never a zero; see analytics/forecast.py)
-- Tokens are split three ways, consistently with mart_person_week: suspected = a flagged person's tokens in
-- their suspect weeks, declared automation excluded; automation = initiated_by = 'schedule'; genuine = the
-- rest (unattributed identities included). Token types and cost let pricing scenarios use the observed mix.
-- A definition (analytics/marts.py builds or updates the table from it): the days of the weeks [$lo, $hi] and
-- of the weeks in _flipped (where detection changed someone's suspect weeks).
SELECT u.day, u.tool, COALESCE(p.org_id, '(unattributed)') AS org_id,
       COALESCE(any_value(p.org_name), '(unattributed)') AS org_name, u.model,
       CAST(sum(u.tokens) AS BIGINT) AS tokens,
       CAST(sum(CASE WHEN w.is_suspected THEN u.tokens - u.automation_tokens ELSE 0 END) AS BIGINT) AS suspected_tokens,
       CAST(sum(u.automation_tokens) AS BIGINT) AS automation_tokens,
       CAST(sum(u.tokens - u.automation_tokens
                - CASE WHEN w.is_suspected THEN u.tokens - u.automation_tokens ELSE 0 END) AS BIGINT)
           AS genuine_tokens,
       CAST(sum(u.input_tokens) AS BIGINT) AS input_tokens, CAST(sum(u.output_tokens) AS BIGINT) AS output_tokens,
       CAST(sum(u.cache_read_tokens) AS BIGINT) AS cache_read_tokens,
       CAST(sum(u.cache_write_tokens) AS BIGINT) AS cache_write_tokens,
       sum(u.cost_usd) AS cost_usd,
       sum(CASE WHEN w.is_suspected THEN u.cost_usd - u.automation_cost_usd ELSE 0 END) AS suspected_cost_usd,
       sum(u.automation_cost_usd) AS automation_cost_usd
FROM (
    -- two reads rather than one with OR, so that each skips the row groups outside its weeks
    SELECT * FROM int_usage_day_model WHERE week BETWEEN $lo AND $hi
    UNION ALL
    SELECT * FROM int_usage_day_model
    WHERE week IN (SELECT week FROM _flipped) AND week NOT BETWEEN $lo AND $hi
) u
LEFT JOIN dim_people p ON p.user_id = u.user_id
LEFT JOIN mart_person_week w ON w.user_id = u.user_id AND w.week = u.week
GROUP BY u.day, u.tool, COALESCE(p.org_id, '(unattributed)'), u.model
ORDER BY u.day, u.tool, org_id, u.model
