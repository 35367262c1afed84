-- grain: one row per tool or team a leaderboard can be narrowed to (kind = 'tool' or 'team'), teams by tree path,
-- both within the viewer's scope; tools by their tokens over every week (mart_team_tool: mart_person_week_tool's
-- tokens per team and tool)
SELECT 'tool' AS kind, tool AS id, tool AS label, CAST(sum(tokens) AS BIGINT) AS tokens
FROM mart_team_tool WHERE ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
GROUP BY tool HAVING sum(tokens) > 0
UNION ALL
SELECT 'team', team_id, path, NULL FROM dim_teams WHERE ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
ORDER BY kind, tokens DESC NULLS LAST, label;
