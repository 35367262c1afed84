-- grain: one row per person with tokens in the weeks overlapping [$start, $end], counting only weeks inside the
-- viewer's scope (and inside the $subtree team and below, when given), placed in the team of their latest such
-- week, so that a person who moved is counted once, in one team the viewer may see
SELECT w.user_id, any_value(d.display_name) AS display_name, arg_max(w.team_id, w.week) AS team_id,
       CAST(sum(w.tokens) AS BIGINT) AS tokens, sum(w.real_outcomes) AS real_outcomes,
       count(*) AS active_weeks, count(*) FILTER (WHERE w.is_suspected) AS suspect_weeks
FROM mart_person_week w LEFT JOIN dim_people d USING (user_id)
WHERE w.week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
  AND w.tokens > 0
  AND ($subtree IS NULL OR w.team_id IN (SELECT team_id FROM team_ancestors WHERE ancestor_id = $subtree))
  AND ($scope_all OR (w.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
GROUP BY w.user_id
ORDER BY tokens DESC, w.user_id;
