-- grain: one row per week overlapping [$start, $end]: tokens and cost split into genuine, suspected
-- inflation (a flagged person's suspect weeks, declared automation excluded) and declared automation
SELECT week,
       CAST(sum(tokens - suspected_tokens - scheduled_tokens) AS BIGINT) AS genuine_tokens,
       CAST(sum(suspected_tokens) AS BIGINT) AS suspected_tokens,
       CAST(sum(scheduled_tokens) AS BIGINT) AS automation_tokens,
       sum(cost_usd - suspected_cost_usd - scheduled_cost_usd) AS genuine_cost_usd,
       sum(suspected_cost_usd) AS suspected_cost_usd, sum(scheduled_cost_usd) AS automation_cost_usd
FROM mart_org_week
WHERE week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
GROUP BY week ORDER BY week;
