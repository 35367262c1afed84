-- grain: one row per model the company used in its last 28 days: q_demand_model_mix for the whole company ($tool
-- and $org_id NULL), from what the refresh summed (mart_demand_mix)
SELECT model, tokens, tokens / NULLIF(sum(tokens) OVER (), 0) AS share, input, output, cache_read, cache_write,
       default_prices
FROM mart_demand_mix
ORDER BY tokens DESC, model;
