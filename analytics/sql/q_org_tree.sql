-- grain: one row per team inside the viewer's scope; a parent outside the scope is cut (NULL), so the teams
-- the scope names are the roots of what the viewer sees
WITH scoped AS (
    SELECT team_id, team_name, parent_team_id, depth, org_id, path
    FROM dim_teams
    WHERE ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
)
SELECT team_id, team_name,
       CASE WHEN parent_team_id IN (SELECT team_id FROM scoped) THEN parent_team_id END AS parent_team_id,
       depth, org_id, path
FROM scoped
ORDER BY depth, team_id;
