-- grain: one row per team with a suspected member in the last detection run: q_suspect_teams.sql without the
-- viewer's scope (which keeps or drops whole teams), stored once per refresh
CREATE OR REPLACE TABLE mart_suspect_teams AS
SELECT p.team_id, any_value(p.team_name) AS team_name, any_value(p.org_name) AS org_name, count(*) AS people,
       count(*) FILTER (WHERE d.flagged) AS flagged, max(d.suspicion) AS top_suspicion,
       array_to_string(list_sort(list_distinct(flatten(list(string_split(d.families, ',')) FILTER (WHERE d.flagged)))), ',')
           AS families,
       CAST(sum(d.tokens) AS BIGINT) AS tokens,
       CAST(sum(d.tokens_at_stake) AS BIGINT) AS tokens_at_stake,
       sum(d.tokens_at_stake) / nullif(sum(d.tokens), 0) AS share_at_stake
FROM det_person d JOIN dim_people p USING (user_id)
GROUP BY p.team_id HAVING count(*) FILTER (WHERE d.flagged) > 0
ORDER BY tokens_at_stake DESC, p.team_id;
