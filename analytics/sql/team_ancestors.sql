-- grain: one row per (team, ancestor-or-self); subtree filters join on ancestor_id
CREATE OR REPLACE TABLE team_ancestors AS
WITH RECURSIVE up(team_id, ancestor_id, distance) AS (
    SELECT team_id, team_id, 0 FROM dim_teams
    UNION ALL
    SELECT up.team_id, t.parent_team_id, up.distance + 1
    FROM up JOIN dim_teams t ON t.team_id = up.ancestor_id
    WHERE t.parent_team_id IS NOT NULL AND up.distance < 32
)
SELECT DISTINCT team_id, ancestor_id, distance FROM up
WHERE ancestor_id IN (SELECT team_id FROM dim_teams);
