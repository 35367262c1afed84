-- grain: one row per team on the company's board of the default period (mart_period_team), in the order its
-- first person appears on the board, with the columns leaderboard.team_sums gives
SELECT entity_id, entity_name, org_name, tokens, adjusted_tokens, suspected_people, suspected_tokens,
       scheduled_tokens, outcome_units, people
FROM mart_period_team
ORDER BY first_rank;
