-- grain: one row per person in the viewer's scope with declared automation (initiated_by = schedule) in
-- [$start, $end] (summed per person first, then named: the names are the same on every one of their days).
-- $stored: [$start, $end] is the default range, whose sums, names and teams mart_period_automation.sql keeps.
WITH lane AS (
    SELECT user_id, display_name, team_id, team_name, automation_tokens, automation_cost_usd, scheduled_requests,
           share_of_their_tokens
    FROM mart_period_automation
    WHERE $stored
    UNION ALL
    SELECT l.user_id, p.display_name, p.team_id, p.team_name, l.automation_tokens, l.automation_cost_usd,
           l.scheduled_requests, l.share_of_their_tokens
    FROM (
        SELECT user_id, CAST(sum(scheduled_tokens) AS BIGINT) AS automation_tokens,
               sum(scheduled_cost_usd) AS automation_cost_usd,
               CAST(sum(scheduled_requests) AS BIGINT) AS scheduled_requests,
               sum(scheduled_tokens) / nullif(sum(tokens), 0) AS share_of_their_tokens
        FROM mart_person_day_tool
        WHERE NOT $stored AND is_attributed AND day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)
          AND scheduled_tokens > 0
        GROUP BY user_id
    ) l JOIN dim_people p USING (user_id)
)
SELECT user_id, display_name, team_name, automation_tokens, automation_cost_usd, scheduled_requests,
       share_of_their_tokens
FROM lane
WHERE ($scope_all OR team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id)))
ORDER BY automation_tokens DESC;
