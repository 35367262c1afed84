-- grain: one row per person and local week (Monday) in [$lo, $hi] with events: the signal features events give
-- Scheduled requests (initiated_by = 'schedule') are declared automation and never feed a signal.
-- Statements run in order. $since and $until bound the events read (inclusive days, the person's local
-- calendar): the weeks [$lo, $hi] and, in a refresh of some weeks only, a day either side, so that gaps,
-- sessions and lockstep minutes that cross into a neighbouring week come out as in a run over everything.
-- Only rows of the weeks [$lo, $hi] are kept (_det_event_week, _det_partners); analytics/detect.py stores them.
CREATE OR REPLACE TEMP TABLE _det_events AS
SELECT il.user_id, e.ts, e.tool, e.session_id, e.initiated_by, e.prompt_fingerprint,
       e.input_tokens + e.output_tokens + e.cache_read_tokens + e.cache_write_tokens AS tokens,
       e.cache_read_tokens,
       -- A turn start: a call a person (or a script posing as one) sent. Sources that label nothing
       -- ('unknown') mark a prompt by its length or fingerprint; their other calls are not turns.
       e.initiated_by = 'human'
           OR (e.initiated_by = 'unknown' AND (e.prompt_chars IS NOT NULL OR e.prompt_fingerprint IS NOT NULL))
           AS is_turn,
       dp.timezone IS NOT NULL AS tz_known,
       e.ts + c.shift AS local_ts
FROM usage_events e
JOIN identity_lookup il ON il.identity = lower(e.user_id)
LEFT JOIN dim_people dp ON dp.user_id = il.user_id
LEFT JOIN local_clock(CAST($since AS TIMESTAMP) - INTERVAL 1 DAY, CAST($until AS TIMESTAMP) + INTERVAL 2 DAY) c
    ON c.tz = COALESCE(dp.timezone, 'UTC') AND c.bucket = epoch_us(e.ts) // 900000000
WHERE e.initiated_by <> 'schedule'
  AND e.ts >= CAST($since AS TIMESTAMP) - INTERVAL 1 DAY AND e.ts < CAST($until AS TIMESTAMP) + INTERVAL 2 DAY;

DELETE FROM _det_events
WHERE CAST(local_ts AS DATE) < CAST($since AS DATE) OR CAST(local_ts AS DATE) > CAST($until AS DATE);

-- Gaps between turn starts; agent steps follow them and are not turns. Kept (with whether the turn before
-- fell on the same local day) for the evidence view's gap histogram (detect_evidence.sql).
CREATE OR REPLACE TEMP TABLE _det_turns AS
SELECT user_id, local_ts, ts, epoch(ts) - lag(epoch(ts)) OVER w AS gap,
       CAST(lag(local_ts) OVER w AS DATE) = CAST(local_ts AS DATE) AS after_same_day
FROM _det_events WHERE is_turn
WINDOW w AS (PARTITION BY user_id ORDER BY ts);

CREATE OR REPLACE TEMP TABLE _det_turn_gaps AS
WITH paired AS (
    SELECT user_id, local_ts, gap, lag(gap) OVER (PARTITION BY user_id ORDER BY ts) AS prev_gap
    FROM _det_turns
)
SELECT user_id, CAST(date_trunc('week', local_ts) AS DATE) AS week,
       count(*) FILTER (WHERE gap BETWEEN 20 AND 3600 AND prev_gap BETWEEN 20 AND 3600) AS gap_pairs,
       count(*) FILTER (WHERE gap BETWEEN 20 AND 3600 AND prev_gap BETWEEN 20 AND 3600
                        AND abs(ln(gap / prev_gap)) < $cadence_tolerance) AS regular_pairs,
       stddev_pop(gap) FILTER (WHERE gap BETWEEN 1 AND 3600) / nullif(avg(gap) FILTER (WHERE gap BETWEEN 1 AND 3600), 0)
           AS gap_cv
FROM paired GROUP BY ALL;

-- Sessions whose calls are all unlabelled ('unknown') cannot tell whether a person took part: left out.
CREATE OR REPLACE TEMP TABLE _det_sessions AS
SELECT user_id, CAST(date_trunc('week', min(local_ts)) AS DATE) AS week, session_id,
       bool_or(is_turn) AS has_human, sum(tokens) AS tokens
FROM _det_events WHERE session_id IS NOT NULL
GROUP BY user_id, session_id HAVING bool_or(initiated_by <> 'unknown') OR bool_or(is_turn);

-- Prompt fingerprints as 64-bit numbers, once per person, week and session.
CREATE OR REPLACE TEMP TABLE _det_prompts AS
SELECT DISTINCT user_id, CAST(date_trunc('week', local_ts) AS DATE) AS week, COALESCE(session_id, '') AS session_id,
       CAST('0x' || prompt_fingerprint AS UBIGINT) AS fp
FROM _det_events WHERE prompt_fingerprint IS NOT NULL AND initiated_by <> 'agent';

-- Each distinct fingerprint of a week once, with how many people sent it. Stock prompts that many people
-- send ("hi", a team's slash command) say nothing about padding and are left out.
CREATE OR REPLACE TEMP TABLE _det_fps AS
SELECT week, fp FROM _det_prompts GROUP BY week, fp HAVING count(DISTINCT user_id) < $stock_prompt_people;

-- Near-duplicate fingerprints (Hamming distance <= $near_bits), each distinct pair compared once:
-- candidates share a 16-bit block exactly (certain up to 3 differing bits, usually found up to 6), then
-- are compared bit by bit. A pair that shares several blocks is kept from the first it shares (the blocks
-- below differ), which makes each pair once without sorting them all. Every fingerprint is its own
-- neighbour, and a neighbour's neighbour both ways.
CREATE OR REPLACE TEMP TABLE _det_near AS
WITH blocks AS (
    SELECT week, fp, b, (fp >> (16 * b)) & 65535 AS block FROM _det_fps, range(4) t(b)
), pairs AS (
    SELECT a.week, a.fp, b.fp AS nfp
    FROM blocks a JOIN blocks b ON a.week = b.week AND a.b = b.b AND a.block = b.block AND a.fp < b.fp
    WHERE bit_count(xor(a.fp, b.fp)) <= $near_bits
      AND (a.b < 1 OR xor(a.fp, b.fp) & 65535 <> 0)
      AND (a.b < 2 OR (xor(a.fp, b.fp) >> 16) & 65535 <> 0)
      AND (a.b < 3 OR (xor(a.fp, b.fp) >> 32) & 65535 <> 0)
)
SELECT week, fp, fp AS nfp FROM _det_fps
UNION ALL SELECT week, fp, nfp FROM pairs
UNION ALL SELECT week, nfp, fp FROM pairs;

-- For each fingerprint and each person who sent one of its neighbours: in how many sessions.
CREATE OR REPLACE TEMP TABLE _det_reach AS
SELECT n.week, n.fp, q.user_id, count(DISTINCT q.session_id) AS sessions
FROM _det_near n JOIN _det_prompts q ON q.week = n.week AND q.fp = n.nfp
GROUP BY ALL;

-- A prompt is shared when someone else sent a neighbour that week, and a repeat when its sender sent a
-- neighbour in another session. The two are kept apart (a shared prompt is not also counted as a repeat),
-- so one template cannot make two families agree.
CREATE OR REPLACE TEMP TABLE _det_content AS
WITH per_fp AS (
    SELECT week, fp, count(*) AS senders FROM _det_reach GROUP BY ALL
), flags AS (
    SELECT p.user_id, p.week, p.session_id, p.fp, COALESCE(f.senders, 0) >= 2 AS shared,
           COALESCE(r.sessions, 0) >= 2 AS repeated
    FROM _det_prompts p
    LEFT JOIN per_fp f ON f.week = p.week AND f.fp = p.fp
    LEFT JOIN _det_reach r ON r.week = p.week AND r.fp = p.fp AND r.user_id = p.user_id
)
SELECT user_id, week, count(*) AS prompts, count(*) FILTER (WHERE repeated AND NOT shared) AS self_repeats,
       count(*) FILTER (WHERE shared) AS shared_prompts
FROM flags GROUP BY ALL;

-- Partners: people whose prompts this person's prompts nearly duplicate, and how often.
CREATE OR REPLACE TEMP TABLE _det_partners AS
SELECT p.user_id, p.week, r.user_id AS other_user, count(DISTINCT p.fp) AS shared
FROM (SELECT DISTINCT user_id, week, fp FROM _det_prompts) p
JOIN _det_reach r ON r.week = p.week AND r.fp = p.fp AND r.user_id <> p.user_id
WHERE p.week BETWEEN $lo AND $hi
GROUP BY ALL;

-- Lockstep: a person's turn starts that fall within a minute of a prompt-sharing partner's.
CREATE OR REPLACE TEMP TABLE _det_lockstep AS
WITH paired AS (
    SELECT user_id, week, other_user FROM _det_partners WHERE shared >= $min_shared_prompts
), minutes AS (
    -- a person's turn minutes in a week they share prompts with someone (the share is judged only then)
    SELECT DISTINCT e.user_id, CAST(date_trunc('week', e.local_ts) AS DATE) AS week, epoch_us(e.ts) // 60000000 AS m
    FROM _det_events e
    WHERE e.is_turn AND (e.user_id, CAST(date_trunc('week', e.local_ts) AS DATE)) IN (SELECT (user_id, week) FROM paired)
), partner_minutes AS (
    SELECT DISTINCT user_id, epoch_us(ts) // 60000000 AS m
    FROM _det_events WHERE is_turn AND user_id IN (SELECT other_user FROM paired)
), close AS (
    SELECT DISTINCT a.user_id, a.week, a.m
    FROM minutes a
    JOIN paired p ON p.user_id = a.user_id AND p.week = a.week
    JOIN partner_minutes b ON b.user_id = p.other_user AND b.m BETWEEN a.m - 1 AND a.m + 1
)
SELECT a.user_id, a.week, count(*) AS minutes, count(c.m) AS lockstep_minutes
FROM minutes a LEFT JOIN close c USING (user_id, week, m) GROUP BY ALL;

-- Each local hour a person made calls in: the week's active hours below, and the evidence view's heatmap.
CREATE OR REPLACE TEMP TABLE _det_hours AS
SELECT user_id, date_trunc('hour', local_ts) AS local_hour, CAST(sum(tokens) AS BIGINT) AS tokens, count(*) AS calls
FROM _det_events GROUP BY ALL;

-- Tool-specific features (steps per prompt, cache reads per call) come from the person's main event tool
-- that week, so they are compared with peers on the same tool.
CREATE OR REPLACE TEMP TABLE _det_event_week AS
WITH per_tool AS (
    SELECT user_id, CAST(date_trunc('week', local_ts) AS DATE) AS week, tool,
           count(*) AS events, sum(tokens) AS event_tokens,
           count(*) FILTER (WHERE initiated_by = 'human') AS human_turns,
           count(*) FILTER (WHERE initiated_by = 'agent') AS agent_steps,
           -- local hours mean nothing without the person's time zone: such calls are left out of both sides
           sum(tokens) FILTER (WHERE tz_known AND hour(local_ts) < 6) AS night_tokens,
           sum(tokens) FILTER (WHERE tz_known AND isodow(local_ts) >= 6) AS weekend_tokens,
           sum(tokens) FILTER (WHERE tz_known) AS local_tokens,
           sum(cache_read_tokens) AS cache_read_tokens
    FROM _det_events GROUP BY ALL
), base AS (
    SELECT user_id, week, sum(events) AS events, sum(event_tokens) AS event_tokens,
           sum(night_tokens) AS night_tokens, sum(weekend_tokens) AS weekend_tokens, sum(local_tokens) AS local_tokens,
           arg_max(tool, event_tokens) AS event_tool,
           arg_max(human_turns, event_tokens) AS tool_human_turns, arg_max(agent_steps, event_tokens) AS tool_agent_steps,
           arg_max(cache_read_tokens, event_tokens) AS tool_cache_read_tokens, arg_max(events, event_tokens) AS tool_events
    FROM per_tool GROUP BY ALL
), hours AS (
    SELECT user_id, CAST(date_trunc('week', local_hour) AS DATE) AS week, count(*) AS active_hours
    FROM _det_hours GROUP BY ALL
), sess AS (
    SELECT user_id, week, count(*) AS sessions, count(*) FILTER (WHERE NOT has_human) AS sessions_without_human,
           sum(tokens) FILTER (WHERE NOT has_human) AS tokens_without_human, sum(tokens) AS labelled_session_tokens
    FROM _det_sessions GROUP BY ALL
)
SELECT COALESCE(b.user_id, h.user_id) AS user_id, COALESCE(b.week, h.week) AS week, b.event_tool,
       COALESCE(h.active_hours, 0) AS active_hours,
       COALESCE(b.events, 0) AS events, COALESCE(b.event_tokens, 0) AS event_tokens,
       COALESCE(b.tool_events, 0) AS tool_events,
       COALESCE(b.tool_human_turns, 0) AS human_turns, COALESCE(b.tool_agent_steps, 0) AS agent_steps,
       COALESCE(b.night_tokens, 0) AS night_tokens, COALESCE(b.weekend_tokens, 0) AS weekend_tokens,
       COALESCE(b.tool_cache_read_tokens, 0) AS cache_read_tokens,
       COALESCE(s.sessions, 0) AS sessions, COALESCE(s.sessions_without_human, 0) AS sessions_without_human,
       COALESCE(s.tokens_without_human, 0) AS tokens_without_human,
       COALESCE(s.labelled_session_tokens, 0) AS labelled_session_tokens, COALESCE(b.local_tokens, 0) AS local_tokens,
       COALESCE(g.gap_pairs, 0) AS gap_pairs, COALESCE(g.regular_pairs, 0) AS regular_pairs, g.gap_cv,
       COALESCE(c.prompts, 0) AS prompts, COALESCE(c.self_repeats, 0) AS self_repeats,
       COALESCE(c.shared_prompts, 0) AS shared_prompts,
       COALESCE(l.minutes, 0) AS turn_minutes, COALESCE(l.lockstep_minutes, 0) AS lockstep_minutes
FROM base b
FULL OUTER JOIN hours h USING (user_id, week)
LEFT JOIN sess s USING (user_id, week)
LEFT JOIN _det_turn_gaps g USING (user_id, week)
LEFT JOIN _det_content c USING (user_id, week)
LEFT JOIN _det_lockstep l USING (user_id, week)
WHERE COALESCE(b.week, h.week) BETWEEN $lo AND $hi;
