-- grain: one row per day, tool and top-level org with usage: mart_demand_day without the model (q_demand_day, the
-- Demand page's forecast input), summed once per refresh instead of on every view.
CREATE OR REPLACE TABLE mart_demand_org_day AS
SELECT day, tool, org_id, any_value(org_name) AS org_name,
       CAST(sum(tokens) AS BIGINT) AS tokens, CAST(sum(genuine_tokens) AS BIGINT) AS genuine_tokens,
       CAST(sum(suspected_tokens) AS BIGINT) AS suspected_tokens,
       CAST(sum(automation_tokens) AS BIGINT) AS automation_tokens,
       CAST(sum(input_tokens) AS BIGINT) AS input_tokens, CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
       CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
       CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
       sum(cost_usd) AS cost_usd
FROM mart_demand_day
GROUP BY day, tool, org_id
ORDER BY day, tool, org_id;
