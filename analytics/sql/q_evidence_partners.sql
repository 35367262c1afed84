-- grain: one row per lockstep partner of one person: weeks and prompts they shared. A partner outside the
-- viewer's scope is counted but not named (name and team left blank).
WITH partners AS (
    SELECT d.partner, count(DISTINCT d.week) AS weeks, CAST(sum(d.shared) AS BIGINT) AS shared_prompts
    FROM det_partners d WHERE d.user_id = $user_id GROUP BY ALL
)
SELECT CASE WHEN visible THEN x.partner END AS partner,
       CASE WHEN visible THEN p.display_name ELSE '(outside your scope)' END AS display_name,
       CASE WHEN visible THEN p.team_name END AS team_name, x.weeks, x.shared_prompts
FROM partners x LEFT JOIN dim_people p ON p.user_id = x.partner,
     LATERAL (SELECT ($scope_all OR p.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))) AS visible)
ORDER BY x.shared_prompts DESC LIMIT 20;
