-- grain: one row per team with people scored by the last detection run
SELECT p.team_id, any_value(p.team_name) AS team_name, any_value(p.org_name) AS org_name, count(*) AS people,
       count(*) FILTER (WHERE d.flagged) AS flagged, CAST(sum(d.tokens) AS BIGINT) AS tokens,
       CAST(sum(d.tokens_at_stake) AS BIGINT) AS tokens_at_stake,
       sum(d.tokens_at_stake) / nullif(sum(d.tokens), 0) AS share_at_stake
FROM det_person d JOIN dim_people p USING (user_id)
GROUP BY p.team_id HAVING count(*) FILTER (WHERE d.flagged) > 0
ORDER BY tokens_at_stake DESC;
