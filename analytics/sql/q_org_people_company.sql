-- grain: one row per person with tokens in the default period, the whole company (q_org_people for a viewer who
-- sees everyone and no subtree), as the refresh summed them: most tokens first, then user_id
SELECT user_id, team_id, team_name, tokens, real_outcomes, active_weeks, suspect_weeks
FROM mart_period_person
ORDER BY person_rank;
