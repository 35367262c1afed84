-- grain: one row per person in the viewer's scope with declared automation (initiated_by = schedule) in
-- [$start, $end]
SELECT m.user_id, p.display_name, p.team_name, CAST(sum(m.scheduled_tokens) AS BIGINT) AS automation_tokens,
       sum(m.scheduled_cost_usd) AS automation_cost_usd, CAST(sum(m.scheduled_requests) AS BIGINT) AS scheduled_requests,
       sum(m.scheduled_tokens) / nullif(sum(m.tokens), 0) AS share_of_their_tokens
FROM mart_person_day_tool m JOIN dim_people p USING (user_id)
WHERE m.is_attributed AND m.day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE) AND m.scheduled_tokens > 0
  AND ($scope_all OR p.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id)))
GROUP BY ALL ORDER BY automation_tokens DESC;
