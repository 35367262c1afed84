-- grain: one row: q_demand_prices for the whole company ($tool and $org_id NULL, $stored true), from what the
-- refresh summed per model (mart_demand_mix) and counted (mart_demand_scope)
SELECT sum(i * input) / NULLIF(sum(i), 0) AS input, sum(o * output) / NULLIF(sum(o), 0) AS output,
       sum(cr * cache_read) / NULLIF(sum(cr), 0) AS cache_read,
       sum(cw * cache_write) / NULLIF(sum(cw), 0) AS cache_write,
       (SELECT COALESCE(max(active_users), 0) FROM mart_demand_scope WHERE kind = 'company') AS active_users,
       count(DISTINCT model) AS models
FROM mart_demand_mix;
