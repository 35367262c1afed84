-- grain: one row per identity, local day, tool and model with any usage; the local days [$lo, $hi]
-- An intermediate for mart_demand_day, kept so that a change in who is suspected re-splits demand from these
-- rows instead of from the events (a definition; analytics/marts.py builds or updates the table from it).
SELECT identity, any_value(user_id) AS user_id, day, week, tool, COALESCE(model, '(unknown)') AS model,
       CAST(sum(tokens) AS BIGINT) AS tokens,
       CAST(COALESCE(sum(tokens) FILTER (WHERE initiated_by = 'schedule'), 0) AS BIGINT) AS automation_tokens,
       CAST(sum(input_tokens) AS BIGINT) AS input_tokens, CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
       CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
       CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
       sum(cost_usd) AS cost_usd, COALESCE(sum(cost_usd) FILTER (WHERE initiated_by = 'schedule'), 0) AS automation_cost_usd
FROM stg_usage($lo, $hi)
GROUP BY identity, day, week, tool, COALESCE(model, '(unknown)')
ORDER BY day, identity, tool, model
