-- grain: one row per person (attributed identities only), week (Monday) and tool with usage or outcomes
-- What the leaderboards and the decoupling monitor read. suspected_tokens: the tool's share of a suspect week
-- (every token but declared automation, as in mart_person_week); outcome kinds are kept apart so the
-- outcome-unit weights live in one place (analytics/leaderboard.py) and reach the queries as parameters.
-- tool_reports: this use can be judged by outcomes at all: the tool reports outcomes, or the person's outcomes
-- come credited to no tool in use (a git host), as mart_person_week's uses_outcome_source decides per week.
-- A definition (analytics/marts.py builds or updates the table from it): the weeks [$lo, $hi], and the person
-- weeks in _flipped (where detection changed someone's suspect weeks).
SELECT d.week, d.user_id, w.org_id, w.team_id, d.tool,
       d.tokens, d.cache_read_tokens, d.scheduled_tokens, d.cost_usd,
       CASE WHEN w.is_suspected THEN greatest(d.tokens - d.scheduled_tokens, 0) ELSE 0 END AS suspected_tokens,
       d.edits_accepted, d.commits, d.prs_merged, d.reviews, d.tickets_closed,
       d.tool IN (SELECT tool FROM int_reporting_tools)
           OR d.user_id IN (SELECT user_id FROM int_person_level) AS tool_reports,
       w.is_suspected, w.uses_outcome_source, w.is_headcount
FROM (
    SELECT CAST(date_trunc('week', day) AS DATE) AS week, user_id, tool,
           CAST(sum(tokens) AS BIGINT) AS tokens, CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
           CAST(sum(scheduled_tokens) AS BIGINT) AS scheduled_tokens, sum(cost_usd) AS cost_usd,
           COALESCE(sum(edits_accepted), 0) AS edits_accepted, COALESCE(sum(commits), 0) AS commits,
           COALESCE(sum(prs_merged), 0) AS prs_merged, COALESCE(sum(reviews), 0) AS reviews,
           COALESCE(sum(tickets_closed), 0) AS tickets_closed
    FROM (
        -- two reads rather than one with OR, so that each skips the row groups outside its weeks
        SELECT * FROM mart_person_day_tool WHERE week BETWEEN $lo AND $hi
        UNION ALL
        SELECT m.* FROM mart_person_day_tool m SEMI JOIN _flipped f ON f.user_id = m.user_id AND f.week = m.week
        WHERE m.week NOT BETWEEN $lo AND $hi
    )
    WHERE is_attributed
    GROUP BY ALL
) d JOIN mart_person_week w USING (user_id, week)
ORDER BY d.week, w.org_id, d.user_id
