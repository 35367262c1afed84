-- grain: one row per person in the viewer's scope scored by the last detection run, with name, team and org
SELECT d.user_id, p.display_name, p.team_id, p.team_name, p.org_id, p.org_name, d.suspicion, d.flagged,
       d.families, d.reasons, d.suspect_weeks, d.weeks, d.tokens, d.tokens_at_stake,
       d.first_suspect_week, d.last_suspect_week
FROM det_person d LEFT JOIN dim_people p USING (user_id)
WHERE ($scope_all OR (p.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
ORDER BY d.flagged DESC, d.suspicion DESC, d.tokens DESC;
