-- grain: one row: the first and last local day of the rows loaded after batch $batch, placed on each person's
-- calendar as stg_usage and stg_outcomes place them, and the first and last day the marts hold now
WITH new_rows AS (
    SELECT lower(user_id) AS identity, ts, CAST(NULL AS DATE) AS day FROM usage_events WHERE batch_id > $batch
    UNION ALL
    SELECT lower(user_id), ts, NULL FROM outcomes WHERE batch_id > $batch
    UNION ALL
    SELECT lower(user_id), NULL, day FROM usage_daily WHERE batch_id > $batch
), placed AS (
    SELECT COALESCE(r.day, CAST(timezone(COALESCE(dp.timezone, 'UTC'), timezone('UTC', r.ts)) AS DATE)) AS day
    FROM new_rows r
    LEFT JOIN identity_lookup il ON il.identity = r.identity
    LEFT JOIN dim_people dp ON dp.user_id = il.user_id
)
SELECT min(day) AS first_day, max(day) AS last_day,
       (SELECT min(day) FROM mart_person_day_tool) AS held_first, (SELECT max(day) FROM mart_person_day_tool) AS held_last
FROM placed;
