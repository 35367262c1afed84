-- grain: one row per loaded table whose rows mart_source_rows does not add up to: a load replaced some of its rows
-- (a re-sent daily row replaces the one loaded before) or they were never counted. Row counts come from the
-- tables' own bookkeeping, without reading the rows.
WITH held AS (
    SELECT source, sum(rows_loaded) AS rows_loaded FROM mart_source_rows GROUP BY source
)
SELECT s.source
FROM (
    SELECT 'usage_events' AS source, count(*) AS n FROM usage_events
    UNION ALL SELECT 'usage_daily', count(*) FROM usage_daily
    UNION ALL SELECT 'outcomes', count(*) FROM outcomes
) s
LEFT JOIN held h USING (source)
WHERE s.n <> COALESCE(h.rows_loaded, 0)
ORDER BY s.source;
