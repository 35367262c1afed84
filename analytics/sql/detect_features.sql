-- grain: one row per person and local week (Monday) with any usage in the window: the raw signal features
-- Scheduled requests (initiated_by = 'schedule') are declared automation and never feed a signal.
-- Statements run in order; $since and $until bound the window (inclusive days, the person's local calendar).
CREATE OR REPLACE TEMP TABLE _det_events AS
SELECT il.user_id, e.ts, e.tool, e.session_id, e.initiated_by, e.prompt_fingerprint,
       e.input_tokens + e.output_tokens + e.cache_read_tokens + e.cache_write_tokens AS tokens,
       e.cache_read_tokens,
       timezone(COALESCE(dp.timezone, 'UTC'), timezone('UTC', e.ts)) AS local_ts
FROM usage_events e
JOIN identity_lookup il ON il.identity = lower(e.user_id)
LEFT JOIN dim_people dp ON dp.user_id = il.user_id
WHERE e.initiated_by <> 'schedule'
  AND e.ts >= CAST($since AS TIMESTAMP) - INTERVAL 1 DAY AND e.ts < CAST($until AS TIMESTAMP) + INTERVAL 2 DAY;

DELETE FROM _det_events
WHERE CAST(local_ts AS DATE) < CAST($since AS DATE) OR CAST(local_ts AS DATE) > CAST($until AS DATE);

-- Turn starts: the calls a person (or a script posing as one) sends; agent steps follow them.
CREATE OR REPLACE TEMP TABLE _det_turn_gaps AS
WITH starts AS (
    SELECT user_id, local_ts, ts,
           epoch(ts) - lag(epoch(ts)) OVER (PARTITION BY user_id ORDER BY ts) AS gap
    FROM _det_events WHERE initiated_by <> 'agent'
), paired AS (
    SELECT user_id, local_ts, gap, lag(gap) OVER (PARTITION BY user_id ORDER BY ts) AS prev_gap
    FROM starts
)
SELECT user_id, CAST(date_trunc('week', local_ts) AS DATE) AS week,
       count(*) FILTER (WHERE gap BETWEEN 20 AND 3600 AND prev_gap BETWEEN 20 AND 3600) AS gap_pairs,
       count(*) FILTER (WHERE gap BETWEEN 20 AND 3600 AND prev_gap BETWEEN 20 AND 3600
                        AND abs(ln(gap / prev_gap)) < $cadence_tolerance) AS regular_pairs,
       stddev_pop(gap) FILTER (WHERE gap BETWEEN 1 AND 3600) / nullif(avg(gap) FILTER (WHERE gap BETWEEN 1 AND 3600), 0)
           AS gap_cv
FROM paired GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE _det_sessions AS
SELECT user_id, CAST(date_trunc('week', min(local_ts)) AS DATE) AS week, session_id,
       bool_or(initiated_by = 'human') AS has_human, sum(tokens) AS tokens
FROM _det_events WHERE session_id IS NOT NULL GROUP BY user_id, session_id;

-- Prompt fingerprints as 64-bit numbers, once per person, week and session.
CREATE OR REPLACE TEMP TABLE _det_prompts AS
SELECT DISTINCT user_id, CAST(date_trunc('week', local_ts) AS DATE) AS week, COALESCE(session_id, '') AS session_id,
       CAST('0x' || prompt_fingerprint AS UBIGINT) AS fp
FROM _det_events WHERE prompt_fingerprint IS NOT NULL AND initiated_by <> 'agent';

-- Near-duplicates (Hamming distance <= $near_bits) found through 16-bit blocks: two fingerprints that close
-- usually share a block exactly, so only those candidates are compared bit by bit.
CREATE OR REPLACE TEMP TABLE _det_near AS
WITH blocks AS (
    SELECT user_id, week, session_id, fp, b, (fp >> (16 * b)) & 65535 AS block
    FROM _det_prompts, range(4) t(b)
), pairs AS (
    SELECT DISTINCT a.user_id, a.week, a.session_id, a.fp, b.user_id AS other_user, b.session_id AS other_session
    FROM blocks a JOIN blocks b ON a.week = b.week AND a.b = b.b AND a.block = b.block
    WHERE (a.user_id <> b.user_id OR a.session_id <> b.session_id)
      AND bit_count(xor(a.fp, b.fp)) <= $near_bits
)
SELECT * FROM pairs;

CREATE OR REPLACE TEMP TABLE _det_content AS
WITH matched AS (
    SELECT user_id, week, session_id, fp, bool_or(other_user = user_id) AS self_repeat,
           bool_or(other_user <> user_id) AS shared
    FROM _det_near GROUP BY ALL
)
SELECT p.user_id, p.week, count(*) AS prompts, count(*) FILTER (WHERE m.self_repeat) AS self_repeats,
       count(*) FILTER (WHERE m.shared) AS shared_prompts
FROM _det_prompts p LEFT JOIN matched m USING (user_id, week, session_id, fp)
GROUP BY ALL;

-- Partners: people whose prompts this person's prompts nearly duplicate, and how often.
CREATE OR REPLACE TEMP TABLE _det_partners AS
SELECT user_id, week, other_user, count(DISTINCT fp) AS shared
FROM _det_near WHERE other_user <> user_id GROUP BY ALL;

-- Lockstep: a person's turn starts that fall within a minute of a prompt-sharing partner's.
CREATE OR REPLACE TEMP TABLE _det_lockstep AS
WITH minutes AS (
    SELECT DISTINCT user_id, CAST(date_trunc('week', local_ts) AS DATE) AS week, CAST(epoch(ts) // 60 AS BIGINT) AS m
    FROM _det_events WHERE initiated_by <> 'agent'
      AND user_id IN (SELECT user_id FROM _det_partners WHERE shared >= $min_shared_prompts)
), close AS (
    SELECT DISTINCT a.user_id, a.week, a.m
    FROM minutes a
    JOIN _det_partners p ON p.user_id = a.user_id AND p.week = a.week AND p.shared >= $min_shared_prompts
    JOIN minutes b ON b.user_id = p.other_user AND b.m BETWEEN a.m - 1 AND a.m + 1
)
SELECT a.user_id, a.week, count(*) AS minutes, count(c.m) AS lockstep_minutes
FROM minutes a LEFT JOIN close c USING (user_id, week, m) GROUP BY ALL;

-- Tool-specific features (steps per prompt, cache reads per call) come from the person's main event tool
-- that week, so they are compared with peers on the same tool.
CREATE OR REPLACE TEMP TABLE _det_week AS
WITH per_tool AS (
    SELECT user_id, CAST(date_trunc('week', local_ts) AS DATE) AS week, tool,
           count(*) AS events, sum(tokens) AS event_tokens,
           count(*) FILTER (WHERE initiated_by = 'human') AS human_turns,
           count(*) FILTER (WHERE initiated_by = 'agent') AS agent_steps,
           sum(tokens) FILTER (WHERE hour(local_ts) < 6) AS night_tokens,
           sum(tokens) FILTER (WHERE isodow(local_ts) >= 6) AS weekend_tokens,
           sum(cache_read_tokens) AS cache_read_tokens
    FROM _det_events GROUP BY ALL
), base AS (
    SELECT user_id, week, sum(events) AS events, sum(event_tokens) AS event_tokens,
           sum(night_tokens) AS night_tokens, sum(weekend_tokens) AS weekend_tokens,
           arg_max(tool, event_tokens) AS event_tool,
           arg_max(human_turns, event_tokens) AS tool_human_turns, arg_max(agent_steps, event_tokens) AS tool_agent_steps,
           arg_max(cache_read_tokens, event_tokens) AS tool_cache_read_tokens, arg_max(events, event_tokens) AS tool_events
    FROM per_tool GROUP BY ALL
), hours AS (
    SELECT user_id, CAST(date_trunc('week', local_ts) AS DATE) AS week,
           count(DISTINCT date_trunc('hour', local_ts)) AS active_hours
    FROM _det_events GROUP BY ALL
), sess AS (
    SELECT user_id, week, count(*) AS sessions, count(*) FILTER (WHERE NOT has_human) AS sessions_without_human,
           sum(tokens) FILTER (WHERE NOT has_human) AS tokens_without_human
    FROM _det_sessions GROUP BY ALL
), reporting AS (
    SELECT tool FROM mart_person_day_tool GROUP BY tool HAVING sum(real_outcomes) > 0
), days AS (
    SELECT user_id, week, sum(tokens) AS tokens,
           sum(tokens) FILTER (WHERE tool IN (SELECT tool FROM reporting)) AS reporting_tokens,
           sum(real_outcomes) FILTER (WHERE tool IN (SELECT tool FROM reporting)) AS real_outcomes,
           sum(edits_accepted) AS edits_accepted, sum(edits_rejected) AS edits_rejected,
           arg_max(tool, tokens) AS top_tool
    FROM (
        SELECT user_id, week, tool, sum(tokens - scheduled_tokens) AS tokens, sum(real_outcomes) AS real_outcomes,
               sum(edits_accepted) AS edits_accepted, sum(edits_rejected) AS edits_rejected
        FROM mart_person_day_tool
        WHERE is_attributed AND day BETWEEN CAST($since AS DATE) AND CAST($until AS DATE)
        GROUP BY ALL
    ) GROUP BY ALL
)
SELECT d.user_id, d.week, COALESCE(b.event_tool, d.top_tool) AS top_tool, d.tokens, d.reporting_tokens,
       d.real_outcomes, d.edits_accepted, d.edits_rejected, COALESCE(h.active_hours, 0) AS active_hours,
       COALESCE(b.events, 0) AS events, COALESCE(b.event_tokens, 0) AS event_tokens,
       COALESCE(b.tool_events, 0) AS tool_events,
       COALESCE(b.tool_human_turns, 0) AS human_turns, COALESCE(b.tool_agent_steps, 0) AS agent_steps,
       COALESCE(b.night_tokens, 0) AS night_tokens, COALESCE(b.weekend_tokens, 0) AS weekend_tokens,
       COALESCE(b.tool_cache_read_tokens, 0) AS cache_read_tokens,
       COALESCE(s.sessions, 0) AS sessions, COALESCE(s.sessions_without_human, 0) AS sessions_without_human,
       COALESCE(s.tokens_without_human, 0) AS tokens_without_human,
       COALESCE(g.gap_pairs, 0) AS gap_pairs, COALESCE(g.regular_pairs, 0) AS regular_pairs, g.gap_cv,
       COALESCE(c.prompts, 0) AS prompts, COALESCE(c.self_repeats, 0) AS self_repeats,
       COALESCE(c.shared_prompts, 0) AS shared_prompts,
       COALESCE(l.minutes, 0) AS turn_minutes, COALESCE(l.lockstep_minutes, 0) AS lockstep_minutes
FROM days d
LEFT JOIN base b USING (user_id, week)
LEFT JOIN hours h USING (user_id, week)
LEFT JOIN sess s USING (user_id, week)
LEFT JOIN _det_turn_gaps g USING (user_id, week)
LEFT JOIN _det_content c USING (user_id, week)
LEFT JOIN _det_lockstep l USING (user_id, week)
WHERE d.tokens > 0;

-- Daily tokens per person, for the calendar (snapshot) and change families.
CREATE OR REPLACE TEMP TABLE _det_day AS
SELECT user_id, day, sum(tokens - scheduled_tokens) AS tokens
FROM mart_person_day_tool
WHERE is_attributed AND day BETWEEN CAST($since AS DATE) AND CAST($until AS DATE)
GROUP BY ALL;
