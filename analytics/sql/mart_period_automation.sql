-- grain: one row per person with declared automation (initiated_by = schedule) in the sidebar's default date range:
-- the last $weeks weeks of data, the days period_start to period_end (pages/_shared/filters.py). q_automation_lane's
-- per-person sums for that range, summed once per refresh instead of on every view, with the name and team the query
-- gives them (dim_people; people it does not hold are left out, as the query leaves them), so that a view joins
-- nothing.
CREATE OR REPLACE TABLE mart_period_automation AS
WITH period AS (
    SELECT greatest(min(day), max(day) - (7 * $weeks - 1)) AS lo, max(day) AS hi FROM mart_person_day_tool
), lane AS (
    SELECT p.lo AS period_start, p.hi AS period_end, m.user_id,
           CAST(sum(m.scheduled_tokens) AS BIGINT) AS automation_tokens,
           sum(m.scheduled_cost_usd) AS automation_cost_usd,
           CAST(sum(m.scheduled_requests) AS BIGINT) AS scheduled_requests,
           sum(m.scheduled_tokens) / nullif(sum(m.tokens), 0) AS share_of_their_tokens
    FROM mart_person_day_tool m, period p
    WHERE m.is_attributed AND m.day BETWEEN p.lo AND p.hi AND m.scheduled_tokens > 0
    GROUP BY ALL
)
SELECT l.period_start, l.period_end, l.user_id, d.display_name, d.team_id, d.team_name, l.automation_tokens,
       l.automation_cost_usd, l.scheduled_requests, l.share_of_their_tokens
FROM lane l JOIN dim_people d USING (user_id)
ORDER BY l.user_id;
