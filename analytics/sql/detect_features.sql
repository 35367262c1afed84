-- grain: one row per person and local week (Monday) with any usage in the window: the raw signal features
-- The marts give the tokens and outcomes; _det_event_week (detect_events.sql, or the stored det_event_week in a
-- refresh) gives what only events tell. $since and $until bound the window (inclusive days, local calendar).
-- $fresh (a Monday, else $since): the weeks before it are not computed here; a refresh of later weeks adds their
-- rows as det_person_week stored them (analytics/detect.py), which their unchanged rows would give again.
-- Scheduled requests (initiated_by = 'schedule') are declared automation and never feed a signal.
CREATE OR REPLACE TEMP TABLE _det_week AS
WITH reporting AS (
    -- tools that report outcomes at all; outcomes credited to no tool in use (a git host, or no tool
    -- named) are the person's, and then cover all of that person's tokens
    SELECT tool, sum(tokens) = 0 AS person_level FROM mart_person_day_tool GROUP BY tool HAVING sum(real_outcomes) > 0
), person_level AS (
    SELECT DISTINCT user_id FROM mart_person_day_tool
    WHERE is_attributed AND real_outcomes > 0 AND tool IN (SELECT tool FROM reporting WHERE person_level)
      AND day BETWEEN CAST($since AS DATE) AND CAST($until AS DATE)
), days AS (
    SELECT user_id, week, sum(tokens) AS tokens,
           sum(tokens) FILTER (WHERE tool IN (SELECT tool FROM reporting)
                               OR user_id IN (SELECT user_id FROM person_level)) AS reporting_tokens,
           sum(real_outcomes) AS real_outcomes,
           sum(edits_accepted) AS edits_accepted, sum(edits_rejected) AS edits_rejected,
           arg_max(tool, tokens) AS top_tool
    FROM (
        SELECT user_id, week, tool, sum(tokens - scheduled_tokens) AS tokens, sum(real_outcomes) AS real_outcomes,
               sum(edits_accepted) AS edits_accepted, sum(edits_rejected) AS edits_rejected
        FROM mart_person_day_tool
        WHERE is_attributed AND day BETWEEN CAST($since AS DATE) AND CAST($until AS DATE)
          AND day >= CAST($fresh AS DATE)
        GROUP BY ALL
    ) GROUP BY ALL
)
SELECT d.user_id, d.week, COALESCE(e.event_tool, d.top_tool) AS top_tool, d.tokens, d.reporting_tokens,
       d.real_outcomes, d.edits_accepted, d.edits_rejected, COALESCE(e.active_hours, 0) AS active_hours,
       COALESCE(e.events, 0) AS events, COALESCE(e.event_tokens, 0) AS event_tokens,
       COALESCE(e.tool_events, 0) AS tool_events, COALESCE(e.human_turns, 0) AS human_turns,
       COALESCE(e.agent_steps, 0) AS agent_steps, COALESCE(e.night_tokens, 0) AS night_tokens,
       COALESCE(e.weekend_tokens, 0) AS weekend_tokens, COALESCE(e.cache_read_tokens, 0) AS cache_read_tokens,
       COALESCE(e.sessions, 0) AS sessions, COALESCE(e.sessions_without_human, 0) AS sessions_without_human,
       COALESCE(e.tokens_without_human, 0) AS tokens_without_human,
       COALESCE(e.labelled_session_tokens, 0) AS labelled_session_tokens, COALESCE(e.local_tokens, 0) AS local_tokens,
       COALESCE(e.gap_pairs, 0) AS gap_pairs, COALESCE(e.regular_pairs, 0) AS regular_pairs, e.gap_cv,
       COALESCE(e.prompts, 0) AS prompts, COALESCE(e.self_repeats, 0) AS self_repeats,
       COALESCE(e.shared_prompts, 0) AS shared_prompts,
       COALESCE(e.turn_minutes, 0) AS turn_minutes, COALESCE(e.lockstep_minutes, 0) AS lockstep_minutes
FROM days d
LEFT JOIN _det_event_week e USING (user_id, week)
WHERE d.tokens > 0;

-- Daily tokens per person, for the calendar (snapshot) family (analytics/detect.py sums them by snapshot window).
CREATE OR REPLACE TEMP TABLE _det_day AS
SELECT user_id, day, sum(tokens - scheduled_tokens) AS tokens
FROM mart_person_day_tool
WHERE is_attributed AND day BETWEEN CAST($since AS DATE) AND CAST($until AS DATE)
GROUP BY ALL;

-- Days with use per person and week, for the change family (a baseline week needs two).
CREATE OR REPLACE TEMP TABLE _det_active AS
SELECT user_id, CAST(date_trunc('week', day) AS DATE) AS week, count(*) AS active_days
FROM _det_day WHERE tokens > 0
GROUP BY ALL;
