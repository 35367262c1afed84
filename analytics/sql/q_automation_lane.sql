-- grain: one row per person in the viewer's scope with declared automation (initiated_by = schedule) in
-- [$start, $end] (summed per person first, then named: the names are the same on every one of their days). For the
-- default range, q_automation_lane_stored.sql reads the same from mart_period_automation.sql.
SELECT l.user_id, p.display_name, p.team_name, l.automation_tokens, l.automation_cost_usd, l.scheduled_requests,
       l.share_of_their_tokens
FROM (
    SELECT user_id, CAST(sum(scheduled_tokens) AS BIGINT) AS automation_tokens,
           sum(scheduled_cost_usd) AS automation_cost_usd,
           CAST(sum(scheduled_requests) AS BIGINT) AS scheduled_requests,
           sum(scheduled_tokens) / nullif(sum(tokens), 0) AS share_of_their_tokens
    FROM mart_person_day_tool
    WHERE is_attributed AND day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE) AND scheduled_tokens > 0
    GROUP BY user_id
) l JOIN dim_people p USING (user_id)
WHERE ($scope_all OR p.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id)))
ORDER BY l.automation_tokens DESC;
