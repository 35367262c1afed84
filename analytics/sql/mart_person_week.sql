-- grain: one row per person and week (Monday) in which the person was headcount or used AI
-- is_headcount: employed that week (active_from / active_to); adoption counts only these rows, while token
-- and cost totals count every row, so usage outside an employment window is not lost.
-- is_active: headcount, with any AI use that week, as a usage scoreboard counts it.
-- is_outcome_backed: active, and that week's use is backed by real outcomes (accepted edits, commits, PRs, …).
-- is_suspected: the week is one of a flagged person's suspect weeks (detection); suspected_tokens are that
-- week's tokens other than declared automation. Real use = outcome-backed and not suspected.
-- uses_outcome_source: active in at least one tool that reports outcomes at all (or the person's outcomes are
-- credited to no tool in use, e.g. commits from a git host); use of tools that report none can never be
-- outcome-backed, so such people are "unknown", not "not real" (missing is not zero).
-- A definition (analytics/marts.py builds or updates the table from it): the weeks [$lo, $hi].
WITH weeks AS (
    SELECT CAST(w AS DATE) AS week
    FROM range((SELECT date_trunc('week', min(day)) FROM mart_person_day_tool),
               (SELECT max(day) FROM mart_person_day_tool) + INTERVAL 1 DAY, INTERVAL 7 DAY) t(w)
    WHERE CAST(w AS DATE) BETWEEN $lo AND $hi
), headcount AS (
    SELECT p.user_id, w.week
    FROM dim_people p JOIN weeks w
      ON (p.active_from IS NULL OR p.active_from <= w.week + 6)
     AND (p.active_to IS NULL OR p.active_to >= w.week)
), used AS (
    SELECT user_id, week,
           bool_or(tool IN (SELECT tool FROM int_reporting_tools) OR user_id IN (SELECT user_id FROM int_person_level))
               FILTER (WHERE requests > 0 OR tokens > 0) AS uses_outcome_source,
           CAST(sum(tokens) AS BIGINT) AS tokens, sum(cost_usd) AS cost_usd, CAST(sum(requests) AS BIGINT) AS requests,
           CAST(sum(human_prompts) AS BIGINT) AS human_prompts, sum(real_outcomes) AS real_outcomes,
           CAST(sum(scheduled_tokens) AS BIGINT) AS scheduled_tokens, sum(scheduled_cost_usd) AS scheduled_cost_usd,
           count(DISTINCT day) FILTER (WHERE requests > 0 OR tokens > 0) AS active_days
    FROM mart_person_day_tool WHERE is_attributed AND week BETWEEN $lo AND $hi GROUP BY user_id, week
), rows AS (
    SELECT COALESCE(h.user_id, u.user_id) AS user_id, COALESCE(h.week, u.week) AS week,
           h.user_id IS NOT NULL AS is_headcount, u.*
    FROM headcount h FULL OUTER JOIN used u ON u.user_id = h.user_id AND u.week = h.week
)
SELECT r.week, r.user_id, p.org_id, p.team_id, r.is_headcount,
       COALESCE(r.tokens, 0) AS tokens, COALESCE(r.cost_usd, 0) AS cost_usd,
       COALESCE(r.requests, 0) AS requests, COALESCE(r.human_prompts, 0) AS human_prompts,
       COALESCE(r.real_outcomes, 0) AS real_outcomes, COALESCE(r.active_days, 0) AS active_days,
       COALESCE(r.scheduled_tokens, 0) AS scheduled_tokens, COALESCE(r.scheduled_cost_usd, 0) AS scheduled_cost_usd,
       -- set by detection (analytics/detect.py) after this table is built: a flagged person's suspect weeks
       false AS is_suspected, CAST(0 AS BIGINT) AS suspected_tokens, CAST(0 AS DOUBLE) AS suspected_cost_usd,
       r.is_headcount AND COALESCE(r.active_days, 0) > 0 AS is_active,
       r.is_headcount AND COALESCE(r.active_days, 0) > 0 AND COALESCE(r.real_outcomes, 0) > 0 AS is_outcome_backed,
       COALESCE(r.uses_outcome_source, false) AS uses_outcome_source
FROM rows r JOIN dim_people p USING (user_id)
ORDER BY week, org_id, user_id
