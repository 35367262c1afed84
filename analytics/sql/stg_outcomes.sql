-- grain: one row per outcome whose local day lies in [lo, hi], attributed, on the person's local day
-- A table macro like stg_usage, pre-filtered on UTC time a day either side of the days.
CREATE OR REPLACE MACRO stg_outcomes(lo, hi) AS TABLE
WITH typed AS (
    SELECT o.outcome_id, o.ts, lower(o.user_id) AS identity, il.user_id, il.user_id IS NOT NULL AS is_attributed,
           o.kind, o.quantity, COALESCE(o.tool, 'unknown') AS tool, o.session_id,
           CAST(timezone(COALESCE(dp.timezone, 'UTC'), timezone('UTC', o.ts)) AS DATE) AS day
    FROM outcomes o
    LEFT JOIN identity_lookup il ON il.identity = lower(o.user_id)
    LEFT JOIN dim_people dp ON dp.user_id = il.user_id
    WHERE o.ts >= CAST(lo AS TIMESTAMP) - INTERVAL 1 DAY AND o.ts < CAST(hi AS TIMESTAMP) + INTERVAL 2 DAY
)
SELECT *, CAST(date_trunc('week', day) AS DATE) AS week FROM typed
WHERE day BETWEEN CAST(lo AS DATE) AND CAST(hi AS DATE);
