-- grain: one row per week and tool in [$start, $end]: tokens by type, cost, requests, and users (distinct people
-- that week, summed over orgs: a person belongs to one org)
SELECT week, tool, CAST(sum(tokens) AS BIGINT) AS tokens, sum(cost_usd) AS cost_usd,
       CAST(sum(input_tokens) AS BIGINT) AS input_tokens, CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
       CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
       CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens, CAST(sum(requests) AS BIGINT) AS requests,
       CAST(sum(users) AS BIGINT) AS users
FROM mart_week_tool
WHERE week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
GROUP BY week, tool ORDER BY week, tool;
