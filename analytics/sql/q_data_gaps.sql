-- grain: one row per source (tool) and run of consecutive days, inside its first..last day, with no data
WITH days AS (  -- a source's days with data: its days in mart_person_day_tool
    SELECT tool, day FROM mart_tool_day
), calendar AS (
    SELECT tool, CAST(unnest(generate_series(CAST(min(day) AS TIMESTAMP), CAST(max(day) AS TIMESTAMP),
                                             INTERVAL 1 DAY)) AS DATE) AS day
    FROM days GROUP BY tool
), missing AS (
    SELECT c.tool, c.day FROM calendar c ANTI JOIN days d ON d.tool = c.tool AND d.day = c.day
)
-- consecutive missing days share day - (its rank among the missing days)
SELECT tool, min(day) AS gap_start, max(day) AS gap_end, count(*) AS days
FROM (SELECT tool, day, day - CAST(row_number() OVER (PARTITION BY tool ORDER BY day) AS INTEGER) AS run FROM missing)
GROUP BY tool, run
ORDER BY tool, gap_start;
