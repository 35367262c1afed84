-- grain: one row per week overlapping [$start, $end] in which person $user_id has usage inside the viewer's scope
SELECT week, CAST(tokens AS BIGINT) AS tokens, CAST(suspected_tokens AS BIGINT) AS suspected_tokens,
       CAST(scheduled_tokens AS BIGINT) AS scheduled_tokens, cost_usd, real_outcomes, is_suspected
FROM mart_person_week
WHERE user_id = $user_id
  AND week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
  AND ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
ORDER BY week;
