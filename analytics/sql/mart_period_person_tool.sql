-- grain: one row per person, tool, team and tool_reports with usage in the default period: the weeks of the last
-- $weeks weeks of data (the sidebar's default date range, pages/_shared/filters.py), from period_lo to period_hi
-- (Mondays). q_leaderboard_people's first step, summed once per refresh, so the default view reads about a tenth
-- of the rows of mart_person_week_tool's period (and the outcome kinds stay apart: their weights are parameters).
CREATE OR REPLACE TABLE mart_period_person_tool AS
WITH period AS (
    SELECT CAST(date_trunc('week', greatest(min(day), max(day) - (7 * $weeks - 1))) AS DATE) AS lo,
           CAST(date_trunc('week', max(day)) AS DATE) AS hi
    FROM mart_person_day_tool
)
SELECT p.lo AS period_lo, p.hi AS period_hi, m.user_id, m.tool, m.team_id, m.tool_reports,
       sum(m.tokens) AS tokens, sum(m.suspected_tokens) AS suspected_tokens,
       sum(m.scheduled_tokens) AS scheduled_tokens, sum(m.cost_usd) AS cost_usd,
       sum(m.cache_read_tokens * (m.tokens - m.suspected_tokens) / nullif(m.tokens, 0)) AS kept_cache_read_tokens,
       sum(m.edits_accepted) FILTER (WHERE NOT m.is_suspected) AS edits_accepted,
       sum(m.commits) FILTER (WHERE NOT m.is_suspected) AS commits,
       sum(m.prs_merged) FILTER (WHERE NOT m.is_suspected) AS prs_merged,
       sum(m.reviews) FILTER (WHERE NOT m.is_suspected) AS reviews,
       sum(m.tickets_closed) FILTER (WHERE NOT m.is_suspected) AS tickets_closed,
       bool_or(m.is_suspected) AS flagged
FROM mart_person_week_tool m, period p
WHERE m.week BETWEEN p.lo AND p.hi
GROUP BY ALL
ORDER BY m.user_id, m.tool;
