-- grain: one row per tool with events: how many, and the last batch that loaded one (NULL in a lake without
-- batches). mart_source_rows' usage_events rows when a refresh reads events from a lake (either engine).
SELECT 'usage_events' AS source, tool, count(*) AS rows_loaded, max(batch_id) AS last_batch
FROM usage_events
GROUP BY tool
