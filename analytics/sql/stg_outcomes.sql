-- grain: one row per outcome, attributed, on the person's local calendar day
CREATE OR REPLACE VIEW stg_outcomes AS
SELECT o.outcome_id, o.ts, lower(o.user_id) AS identity, il.user_id, il.user_id IS NOT NULL AS is_attributed,
       o.kind, o.quantity, COALESCE(o.tool, 'unknown') AS tool, o.session_id,
       CAST(timezone(COALESCE(dp.timezone, 'UTC'), timezone('UTC', o.ts)) AS DATE) AS day
FROM outcomes o
LEFT JOIN identity_lookup il ON il.identity = lower(o.user_id)
LEFT JOIN dim_people dp ON dp.user_id = il.user_id;
