-- grain: one row per person in the viewer's scope with declared automation (initiated_by = schedule) in the default
-- range, as mart_period_automation.sql keeps them (sums, name and team), each with `stored`: [$start, $end] is that
-- range. One row of `stored` alone (the person's columns NULL) when it is not, or when nobody in scope has any; the
-- Warehouse then asks q_automation_lane.sql, or gives none. One query where checking the range first took two.
WITH period AS (
    SELECT COALESCE(min(period_start) = CAST($start AS DATE) AND min(period_end) = CAST($end AS DATE), false) AS stored
    FROM mart_period_automation
), lane AS (
    SELECT user_id, display_name, team_name, automation_tokens, automation_cost_usd, scheduled_requests,
           share_of_their_tokens
    FROM mart_period_automation
    WHERE ($scope_all OR team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id)))
)
SELECT p.stored, l.user_id, l.display_name, l.team_name, l.automation_tokens, l.automation_cost_usd,
       l.scheduled_requests, l.share_of_their_tokens
FROM period p LEFT JOIN lane l ON p.stored
ORDER BY l.automation_tokens DESC;
