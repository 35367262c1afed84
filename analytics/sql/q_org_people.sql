-- grain: one row per person with tokens in the weeks overlapping [$start, $end], counting only weeks inside the
-- viewer's scope (and inside the $subtree team and below, when given), placed in the team of their latest such
-- week, so that a person who moved is counted once, in one team the viewer may see. $stored: the weeks asked for
-- are the default period's, summed per person and team by the refresh (mart_period_person_team); the branch not
-- taken is a constant false, which the planner drops
WITH weeks AS (
    SELECT user_id, team_id, last_week, tokens, real_outcomes, active_weeks, suspect_weeks
    FROM mart_period_person_team
    WHERE $stored
    UNION ALL
    SELECT user_id, team_id, week, tokens, real_outcomes, 1, CAST(is_suspected AS INTEGER)
    FROM mart_person_week
    WHERE NOT $stored AND week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE) AND tokens > 0
)
SELECT w.user_id, any_value(d.display_name) AS display_name, arg_max(w.team_id, w.last_week) AS team_id,
       CAST(sum(w.tokens) AS BIGINT) AS tokens, sum(w.real_outcomes) AS real_outcomes,
       CAST(sum(w.active_weeks) AS BIGINT) AS active_weeks, CAST(sum(w.suspect_weeks) AS BIGINT) AS suspect_weeks
FROM weeks w LEFT JOIN dim_people d USING (user_id)
WHERE ($subtree IS NULL OR w.team_id IN (SELECT team_id FROM team_ancestors WHERE ancestor_id = $subtree))
  AND ($scope_all OR (w.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
GROUP BY w.user_id
ORDER BY tokens DESC, w.user_id;
