-- grain: one row per team and tool with rows in mart_person_week_tool (team_id NULL: use in no team), over every
-- week: its tokens, summed once per refresh, from which q_leaderboard_filters lists the tools a viewer's scope
-- used (18,375 rows at 100 M events, against 2.3 M person weeks summed per view)
CREATE OR REPLACE TABLE mart_team_tool AS
SELECT team_id, tool, sum(tokens) AS tokens
FROM mart_person_week_tool
GROUP BY ALL
ORDER BY team_id, tool;
