-- grain: one row per team inside the viewer's scope (the CTE `teams`, q_org_tree), in its order (depth, team_id),
-- then one row $no_team when someone is placed in no team among them: the people placed directly in each team
-- who have tokens (the CTE `people`, q_org_board_people or q_org_people_company), counted and summed as
-- org.team_nodes sums them. queries.py puts the CTEs before this query.
SELECT COALESCE(t.team_id, $no_team) AS team_id, COALESCE(t.team_name, $no_team) AS team_name, t.parent_team_id,
       COALESCE(t.depth, 0) AS depth, COALESCE(d.people, 0) AS people, COALESCE(d.tokens, 0) AS tokens,
       COALESCE(d.adjusted_tokens, 0) AS adjusted_tokens, COALESCE(d.suspected_tokens, 0) AS suspected_tokens,
       COALESCE(d.cost_usd, 0) AS cost_usd, COALESCE(d.real_outcomes, 0) AS real_outcomes,
       COALESCE(d.flagged_people, 0) AS flagged_people
FROM teams t
FULL JOIN (
    -- a team not in view (or none) is NULL here, which joins no team: the $no_team row
    SELECT CASE WHEN team_id IN (SELECT team_id FROM teams) THEN team_id END AS team_id, count(*) AS people,
           CAST(sum(tokens) AS BIGINT) AS tokens, sum(adjusted_tokens) AS adjusted_tokens,
           CAST(sum(suspected_tokens) AS BIGINT) AS suspected_tokens, sum(cost_usd) AS cost_usd,
           sum(real_outcomes) AS real_outcomes, count(*) FILTER (WHERE flagged) AS flagged_people
    FROM people
    WHERE tokens > 0
    GROUP BY 1
) d ON t.team_id = d.team_id
ORDER BY t.team_id IS NULL, t.depth, t.team_id
