-- grain: one row per person with usage in the default period (mart_period_person_team's weeks), the whole company:
-- q_org_people for a viewer who sees everyone and no subtree, summed once per refresh, with the name of the team
-- each person is placed in (that of their latest week); person_rank orders them as the query does, most tokens
-- first, then user_id
CREATE OR REPLACE TABLE mart_period_person AS
SELECT row_number() OVER (ORDER BY p.tokens DESC, p.user_id) AS person_rank, p.*, t.team_name
FROM (
    SELECT user_id, arg_max(team_id, last_week) AS team_id, CAST(sum(tokens) AS BIGINT) AS tokens,
           sum(real_outcomes) AS real_outcomes, CAST(sum(active_weeks) AS BIGINT) AS active_weeks,
           CAST(sum(suspect_weeks) AS BIGINT) AS suspect_weeks
    FROM mart_period_person_team
    GROUP BY user_id
) p
LEFT JOIN dim_teams t USING (team_id)
ORDER BY person_rank;
