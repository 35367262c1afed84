-- grain: one row per person in the viewer's scope scored by the last detection run, with name, team and org, flagged
-- first (the order mart_suspects.sql ranks them in)
SELECT user_id, display_name, team_id, team_name, org_id, org_name, suspicion, flagged, families, reasons,
       suspect_weeks, weeks, tokens, tokens_at_stake, first_suspect_week, last_suspect_week
FROM mart_suspects
WHERE ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
ORDER BY rank;
