-- grain: one row per day, tool and top-level org with usage: tokens split genuine / suspected / automation,
-- by type, and cost (the forecast's input; a tool with no row on a day did not report that day), from
-- mart_demand_org_day (mart_demand_day summed over models by the refresh), in its stored order: by day, tool and
-- org_id, which a scan keeps (DuckDB preserves insertion order; sorting again here cost 4 ms at 100 M events)
SELECT day, tool, org_id, org_name, tokens, genuine_tokens, suspected_tokens, automation_tokens, input_tokens,
       output_tokens, cache_read_tokens, cache_write_tokens, cost_usd
FROM mart_demand_org_day;
