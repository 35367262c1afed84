-- grain: one row per usage event or daily row whose local day lies in [lo, hi], typed, attributed, priced
-- A table macro, so a refresh reads only the days a new batch touched (analytics/marts.py): events are
-- pre-filtered on their UTC time a day either side, which lets DuckDB skip row groups, then kept by local day.
-- tokens = input + output + cache read + cache write (every token processed, as scoreboards count).
-- cost_usd = the source's own figure when it sent one, else priced from the price book in force that day
-- (the model's own prices, else the default '*' row). Identities are matched and kept in lower case.
CREATE OR REPLACE MACRO stg_usage(lo, hi) AS TABLE
WITH rows AS (
    SELECT 'event' AS grain, ts, CAST(NULL AS DATE) AS day, user_id AS identity, tool, model, session_id,
           initiated_by, 1 AS requests,
           CASE WHEN initiated_by = 'human' THEN 1 ELSE 0 END AS human_prompts,
           CASE WHEN initiated_by = 'agent' THEN 1 ELSE 0 END AS agent_steps,
           CASE WHEN initiated_by = 'schedule' THEN 1 ELSE 0 END AS scheduled_requests,
           input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd,
           CAST(NULL AS DOUBLE) AS active_minutes
    FROM usage_events
    WHERE ts >= CAST(lo AS TIMESTAMP) - INTERVAL 1 DAY AND ts < CAST(hi AS TIMESTAMP) + INTERVAL 2 DAY
    UNION ALL
    SELECT 'daily', CAST(day AS TIMESTAMP), day, user_id, tool, NULLIF(model, ''), NULL, 'unknown',
           COALESCE(requests, 0), COALESCE(human_prompts, 0), 0, 0,
           input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, active_minutes
    FROM usage_daily
    WHERE day BETWEEN CAST(lo AS DATE) AND CAST(hi AS DATE)
), located AS (
    -- the person and their local day first: the day filter then drops the margin's rows before pricing
    SELECT r.*, lower(r.identity) AS matched, il.user_id,
           -- daily rows carry the source's own day; events take the person's local calendar day
           COALESCE(r.day, CAST(r.ts + c.shift AS DATE)) AS local_day
    FROM rows r
    LEFT JOIN identity_lookup il ON il.identity = lower(r.identity)
    LEFT JOIN dim_people dp ON dp.user_id = il.user_id
    LEFT JOIN local_clock(CAST(lo AS TIMESTAMP) - INTERVAL 1 DAY, CAST(hi AS TIMESTAMP) + INTERVAL 2 DAY) c
        ON c.tz = COALESCE(dp.timezone, 'UTC') AND c.bucket = epoch_us(r.ts) // 900000000
), kept AS (
    SELECT *, '*' AS any_model FROM located WHERE local_day BETWEEN CAST(lo AS DATE) AND CAST(hi AS DATE)
), priced AS (
    -- the prices in force at the time: the model's own, and the default '*' row's (price_book's effective_to)
    SELECT r.*, m.input_usd_per_mtok AS m_in, m.output_usd_per_mtok AS m_out,
           m.cache_read_usd_per_mtok AS m_cr, m.cache_write_usd_per_mtok AS m_cw,
           d.input_usd_per_mtok AS d_in, d.output_usd_per_mtok AS d_out,
           d.cache_read_usd_per_mtok AS d_cr, d.cache_write_usd_per_mtok AS d_cw
    FROM kept r
    LEFT JOIN price_book m ON m.model = r.model AND r.ts >= m.effective_from AND r.ts < m.effective_to
    LEFT JOIN price_book d ON d.model = r.any_model AND r.ts >= d.effective_from AND r.ts < d.effective_to
), typed AS (
    SELECT r.grain, r.ts, r.matched AS identity, r.user_id, r.user_id IS NOT NULL AS is_attributed, r.tool,
           r.model, r.session_id, r.initiated_by, r.local_day AS day,
           r.requests, r.human_prompts, r.agent_steps, r.scheduled_requests,
           r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens,
           r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens AS tokens,
           COALESCE(r.cost_usd, (r.input_tokens * COALESCE(r.m_in, r.d_in) + r.output_tokens * COALESCE(r.m_out, r.d_out)
               + r.cache_read_tokens * COALESCE(r.m_cr, r.d_cr) + r.cache_write_tokens * COALESCE(r.m_cw, r.d_cw)) / 1e6
           ) AS cost_usd,
           r.cost_usd IS NOT NULL AS cost_reported, r.active_minutes
    FROM priced r
)
SELECT *, CAST(date_trunc('week', day) AS DATE) AS week FROM typed;
