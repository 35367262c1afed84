-- grain: one row per team in the viewer's scope with a suspected member in the last detection run: how many, how
-- much, and why; `people` counts every scored member (the group size k-anonymity is judged on)
SELECT p.team_id, any_value(p.team_name) AS team_name, any_value(p.org_name) AS org_name, count(*) AS people,
       count(*) FILTER (WHERE d.flagged) AS flagged, max(d.suspicion) AS top_suspicion,
       array_to_string(list_sort(list_distinct(flatten(list(string_split(d.families, ',')) FILTER (WHERE d.flagged)))), ',')
           AS families,
       CAST(sum(d.tokens) AS BIGINT) AS tokens,
       CAST(sum(d.tokens_at_stake) AS BIGINT) AS tokens_at_stake,
       sum(d.tokens_at_stake) / nullif(sum(d.tokens), 0) AS share_at_stake
FROM det_person d JOIN dim_people p USING (user_id)
WHERE ($scope_all OR (p.team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
GROUP BY p.team_id HAVING count(*) FILTER (WHERE d.flagged) > 0
ORDER BY tokens_at_stake DESC;
