-- grain: one row per tool or team a leaderboard can be narrowed to (kind = 'tool' or 'team'), teams by tree path,
-- both within the viewer's scope; tools by their tokens over every week (mart_team_tool: mart_person_week_tool's
-- tokens per team and tool), then by name; teams in path order (dim_teams.path_order: the paths' text order, kept
-- as an integer)
SELECT kind, id, label, tokens
FROM (
    SELECT 'tool' AS kind, tool AS id, tool AS label, CAST(sum(tokens) AS BIGINT) AS tokens, NULL AS path_order
    FROM mart_team_tool WHERE ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
    GROUP BY tool HAVING sum(tokens) > 0
    UNION ALL
    SELECT 'team', team_id, path, NULL, path_order FROM dim_teams WHERE ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
)
ORDER BY kind, tokens DESC NULLS LAST, path_order, label;
