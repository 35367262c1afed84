-- grain: one row per person with tokens in the weeks overlapping [$start, $end], counting only weeks inside the
-- viewer's scope (and inside the $subtree team and below, when given), placed in the team of their latest such
-- week (team_name: its name), so that a person who moved is counted once, in one team the viewer may see.
-- $stored: the weeks asked for are the default period's, summed per person and team by the refresh
-- (mart_period_person_team); the branch not taken is a constant false, which the planner drops. The whole
-- company's default period is also joined with its board by the refresh: mart_period_person (q_org_people_company)
WITH weeks AS (
    SELECT user_id, team_id, last_week, tokens, real_outcomes, active_weeks, suspect_weeks
    FROM mart_period_person_team
    WHERE $stored
    UNION ALL
    SELECT user_id, team_id, week, tokens, real_outcomes, 1, CAST(is_suspected AS INTEGER)
    FROM mart_person_week
    WHERE NOT $stored AND week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE) AND tokens > 0
), placed AS (
    SELECT w.user_id, arg_max(w.team_id, w.last_week) AS team_id, CAST(sum(w.tokens) AS BIGINT) AS tokens,
           sum(w.real_outcomes) AS real_outcomes, CAST(sum(w.active_weeks) AS BIGINT) AS active_weeks,
           CAST(sum(w.suspect_weeks) AS BIGINT) AS suspect_weeks
    FROM weeks w
    WHERE ($subtree IS NULL OR w.team_id IN (SELECT team_id FROM team_ancestors WHERE ancestor_id = $subtree))
      AND ($scope_all OR (w.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
    GROUP BY w.user_id
)
SELECT p.user_id, p.team_id, t.team_name, p.tokens, p.real_outcomes, p.active_weeks, p.suspect_weeks
FROM placed p LEFT JOIN dim_teams t USING (team_id)
ORDER BY p.tokens DESC, p.user_id;
