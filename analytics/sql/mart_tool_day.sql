-- grain: one row per source (tool; '(no tool)' for outcomes credited to none) and day with a row in
-- mart_person_day_tool: its tokens and cost. The Data page's coverage and gaps (q_data_sources, q_data_gaps),
-- summed once per refresh instead of reading every person-day on every view.
CREATE OR REPLACE TABLE mart_tool_day AS
SELECT COALESCE(tool, '(no tool)') AS tool, day, CAST(sum(tokens) AS BIGINT) AS tokens, sum(cost_usd) AS cost_usd
FROM mart_person_day_tool
GROUP BY ALL
ORDER BY tool, day;
