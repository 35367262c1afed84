-- grain: one row per person (attributed identities only), week (Monday) and tool with usage or outcomes
-- What the leaderboards and the decoupling monitor read. suspected_tokens: the tool's share of a suspect week
-- (every token but declared automation, as in mart_person_week); outcome kinds are kept apart so the
-- outcome-unit weights live in one place (analytics/leaderboard.py) and reach the queries as parameters.
-- tool_reports: this use can be judged by outcomes at all: the tool reports outcomes, or the person's outcomes
-- come credited to no tool in use (a git host), as mart_person_week's uses_outcome_source decides per week.
CREATE OR REPLACE TABLE mart_person_week_tool AS
WITH reporting AS (
    SELECT tool, sum(tokens) = 0 AS person_level FROM mart_person_day_tool GROUP BY tool HAVING sum(real_outcomes) > 0
), person_level AS (
    SELECT DISTINCT user_id FROM mart_person_day_tool
    WHERE is_attributed AND real_outcomes > 0 AND tool IN (SELECT tool FROM reporting WHERE person_level)
)
SELECT d.week, d.user_id, w.org_id, w.team_id, d.tool,
       d.tokens, d.cache_read_tokens, d.scheduled_tokens, d.cost_usd,
       CASE WHEN w.is_suspected THEN greatest(d.tokens - d.scheduled_tokens, 0) ELSE 0 END AS suspected_tokens,
       d.edits_accepted, d.commits, d.prs_merged, d.reviews, d.tickets_closed,
       d.tool IN (SELECT tool FROM reporting) OR d.user_id IN (SELECT user_id FROM person_level) AS tool_reports,
       w.is_suspected, w.uses_outcome_source, w.is_headcount
FROM (
    SELECT CAST(date_trunc('week', day) AS DATE) AS week, user_id, tool,
           CAST(sum(tokens) AS BIGINT) AS tokens, CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
           CAST(sum(scheduled_tokens) AS BIGINT) AS scheduled_tokens, sum(cost_usd) AS cost_usd,
           COALESCE(sum(edits_accepted), 0) AS edits_accepted, COALESCE(sum(commits), 0) AS commits,
           COALESCE(sum(prs_merged), 0) AS prs_merged, COALESCE(sum(reviews), 0) AS reviews,
           COALESCE(sum(tickets_closed), 0) AS tickets_closed
    FROM mart_person_day_tool WHERE is_attributed GROUP BY ALL
) d JOIN mart_person_week w USING (user_id, week)
ORDER BY d.week, w.org_id, d.user_id;
