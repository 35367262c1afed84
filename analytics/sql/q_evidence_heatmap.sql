-- grain: one row per local weekday (1 = Monday) and hour with the person's event tokens (declared automation excluded)
SELECT isodow(local_ts) AS weekday, hour(local_ts) AS hour, CAST(sum(tokens) AS BIGINT) AS tokens, count(*) AS calls
FROM (
    SELECT timezone(COALESCE(dp.timezone, 'UTC'), timezone('UTC', e.ts)) AS local_ts,
           e.input_tokens + e.output_tokens + e.cache_read_tokens + e.cache_write_tokens AS tokens
    FROM usage_events e JOIN identity_lookup il ON il.identity = lower(e.user_id)
    LEFT JOIN dim_people dp ON dp.user_id = il.user_id
    WHERE il.user_id = $user_id AND e.initiated_by <> 'schedule'
      AND e.ts BETWEEN CAST($start AS TIMESTAMP) - INTERVAL 1 DAY AND CAST($end AS TIMESTAMP) + INTERVAL 2 DAY
)
WHERE CAST(local_ts AS DATE) BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)
GROUP BY ALL ORDER BY weekday, hour;
