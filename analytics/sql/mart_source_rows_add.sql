-- grain: as mart_source_rows.sql: the rows counted so far plus those of the loads after batch $since (events and
-- outcomes are only ever added to; a source whose rows then do not add up is counted again, see source_rows_check)
CREATE OR REPLACE TABLE mart_source_rows AS
SELECT source, tool, CAST(sum(rows_loaded) AS BIGINT) AS rows_loaded, max(last_batch) AS last_batch
FROM (
    SELECT source, tool, rows_loaded, last_batch FROM mart_source_rows
    UNION ALL
    SELECT 'usage_events', tool, count(*), max(batch_id) FROM usage_events WHERE batch_id > $since GROUP BY tool
    UNION ALL
    SELECT 'usage_daily', tool, count(*), max(batch_id) FROM usage_daily WHERE batch_id > $since GROUP BY tool
    UNION ALL
    SELECT 'outcomes', tool, count(*), max(batch_id) FROM outcomes WHERE batch_id > $since GROUP BY tool
)
GROUP BY source, tool
ORDER BY source, tool;
