-- grain: one row per source (tool): its grain, rows loaded, days covered, tokens, and its last load
-- rows_loaded counts usage_events or usage_daily rows (a tool sends one or the other); outcome_rows the
-- outcomes credited to the tool. last_loaded_at is when the latest batch holding its rows finished.
-- Rows per table and tool come from mart_source_rows, days per tool from mart_tool_day (both kept by the refresh).
WITH loaded AS (
    SELECT tool, rows_loaded, last_batch FROM mart_source_rows WHERE source IN ('usage_events', 'usage_daily')
), credited AS (
    SELECT COALESCE(tool, '(no tool)') AS tool, CAST(sum(rows_loaded) AS BIGINT) AS outcome_rows,
           max(last_batch) AS last_batch
    FROM mart_source_rows WHERE source = 'outcomes' GROUP BY ALL
), covered AS (
    SELECT tool, min(day) AS first_day, max(day) AS last_day, count(*) AS days_with_data,
           CAST(sum(tokens) AS BIGINT) AS tokens, sum(cost_usd) AS cost_usd
    FROM mart_tool_day GROUP BY tool
), finished AS (
    SELECT batch_id, max(finished_at) AS finished_at FROM ingest_log GROUP BY batch_id
)
SELECT c.tool,
       CASE s.grain WHEN 'usage_events' THEN 'events' WHEN 'usage_daily' THEN 'daily' ELSE 'outcomes only' END AS grain,
       COALESCE(l.rows_loaded, 0) AS rows_loaded, COALESCE(o.outcome_rows, 0) AS outcome_rows,
       c.first_day, c.last_day, c.days_with_data,
       CAST(c.last_day - c.first_day + 1 - c.days_with_data AS BIGINT) AS gap_days,
       c.tokens, c.cost_usd,
       f.finished_at AS last_loaded_at
FROM covered c
LEFT JOIN tool_sources s ON s.tool = c.tool
LEFT JOIN loaded l ON l.tool = c.tool
LEFT JOIN credited o ON o.tool = c.tool
LEFT JOIN finished f ON f.batch_id = greatest(l.last_batch, o.last_batch)
ORDER BY c.tokens DESC, c.tool;
