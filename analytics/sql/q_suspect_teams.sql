-- grain: one row per team in the viewer's scope with a suspected member in the last detection run: how many, how
-- much, and why; `people` counts every scored member (the group size k-anonymity is judged on). From
-- mart_suspect_teams.sql, which sums every team once per refresh.
SELECT team_id, team_name, org_name, people, flagged, top_suspicion, families, tokens, tokens_at_stake, share_at_stake
FROM mart_suspect_teams
WHERE ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
ORDER BY tokens_at_stake DESC;
