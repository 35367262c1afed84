-- grain: one row per team, with its place in the org tree
-- org = the top-level org a team sits in (a child of a root); a root team is its own org.
CREATE OR REPLACE TABLE dim_teams AS
WITH RECURSIVE walk(team_id, team_name, parent_team_id, lead_user_id, depth, root_id, org_id, path) AS (
    SELECT team_id, team_name, parent_team_id, lead_user_id, 0, team_id, team_id, [team_name]
    FROM teams
    WHERE parent_team_id IS NULL OR parent_team_id NOT IN (SELECT team_id FROM teams)
    UNION ALL
    SELECT t.team_id, t.team_name, t.parent_team_id, t.lead_user_id, w.depth + 1, w.root_id,
           CASE WHEN w.depth = 0 THEN t.team_id ELSE w.org_id END, list_append(w.path, t.team_name)
    FROM teams t JOIN walk w ON t.parent_team_id = w.team_id
    WHERE w.depth < 32  -- a cycle in the loaded tree must not loop forever
)
-- path_order: each team's place in path order (then id), so lists by path sort integers, not long texts (the
-- leaderboard's filter options: 7,409 paths sorted as text took 5 ms a view at 100 M events)
SELECT *, row_number() OVER (ORDER BY path, team_id) AS path_order
FROM (
    SELECT w.team_id, w.team_name, w.parent_team_id, w.lead_user_id, w.depth, w.root_id, w.org_id,
           o.team_name AS org_name, array_to_string(w.path, ' / ') AS path
    FROM walk w JOIN teams o ON o.team_id = w.org_id
    QUALIFY row_number() OVER (PARTITION BY w.team_id ORDER BY w.depth) = 1
);
