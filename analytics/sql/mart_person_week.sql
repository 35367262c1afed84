-- grain: one row per person and week (Monday) in which the person was headcount
-- is_active: any AI use that week, as a usage scoreboard counts it.
-- is_outcome_backed: active, and that week's use is backed by real outcomes (accepted edits, commits, PRs, …).
-- is_suspected: the week is one of a flagged person's suspect weeks (detection); suspected_tokens are that
-- week's tokens other than declared automation. Real use = outcome-backed and not suspected.
-- uses_outcome_source: active in at least one tool that reports outcomes at all; use of tools that report
-- none can never be outcome-backed, so such people are "unknown", not "not real" (missing is not zero).
CREATE OR REPLACE TABLE mart_person_week AS
WITH weeks AS (
    SELECT CAST(w AS DATE) AS week
    FROM range((SELECT date_trunc('week', min(day)) FROM mart_person_day_tool),
               (SELECT max(day) FROM mart_person_day_tool) + INTERVAL 1 DAY, INTERVAL 7 DAY) t(w)
), headcount AS (
    SELECT p.user_id, p.org_id, p.team_id, w.week
    FROM dim_people p JOIN weeks w
      ON (p.active_from IS NULL OR p.active_from <= w.week + 6)
     AND (p.active_to IS NULL OR p.active_to >= w.week)
), reporting AS (
    SELECT tool FROM mart_person_day_tool GROUP BY tool HAVING sum(real_outcomes) > 0
), used AS (
    SELECT user_id, week,
           bool_or(tool IN (SELECT tool FROM reporting)) FILTER (WHERE requests > 0 OR tokens > 0)
               AS uses_outcome_source, CAST(sum(tokens) AS BIGINT) AS tokens, sum(cost_usd) AS cost_usd, CAST(sum(requests) AS BIGINT) AS requests,
           CAST(sum(human_prompts) AS BIGINT) AS human_prompts, sum(real_outcomes) AS real_outcomes,
           CAST(sum(scheduled_tokens) AS BIGINT) AS scheduled_tokens, sum(scheduled_cost_usd) AS scheduled_cost_usd,
           count(DISTINCT day) FILTER (WHERE requests > 0 OR tokens > 0) AS active_days
    FROM mart_person_day_tool WHERE is_attributed GROUP BY user_id, week
)
SELECT h.week, h.user_id, h.org_id, h.team_id,
       COALESCE(u.tokens, 0) AS tokens, COALESCE(u.cost_usd, 0) AS cost_usd,
       COALESCE(u.requests, 0) AS requests, COALESCE(u.human_prompts, 0) AS human_prompts,
       COALESCE(u.real_outcomes, 0) AS real_outcomes, COALESCE(u.active_days, 0) AS active_days,
       COALESCE(u.scheduled_tokens, 0) AS scheduled_tokens, COALESCE(u.scheduled_cost_usd, 0) AS scheduled_cost_usd,
       -- set by detection (analytics/detect.py) after this table is built: a flagged person's suspect weeks
       false AS is_suspected, CAST(0 AS BIGINT) AS suspected_tokens, CAST(0 AS DOUBLE) AS suspected_cost_usd,
       COALESCE(u.active_days, 0) > 0 AS is_active,
       COALESCE(u.active_days, 0) > 0 AND COALESCE(u.real_outcomes, 0) > 0 AS is_outcome_backed,
       COALESCE(u.uses_outcome_source, false) AS uses_outcome_source
FROM headcount h LEFT JOIN used u USING (user_id, week)
ORDER BY week, org_id, user_id;
