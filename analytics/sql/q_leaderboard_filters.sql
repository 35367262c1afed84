-- grain: one row per tool or team a leaderboard can be narrowed to (kind = 'tool' or 'team'), teams by tree path
SELECT 'tool' AS kind, tool AS id, tool AS label, CAST(sum(tokens) AS BIGINT) AS tokens
FROM mart_person_week_tool GROUP BY tool HAVING sum(tokens) > 0
UNION ALL
SELECT 'team', team_id, path, NULL FROM dim_teams
ORDER BY kind, tokens DESC NULLS LAST, label;
