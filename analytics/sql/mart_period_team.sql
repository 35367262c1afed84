-- grain: one row per team on the company's board of the default period (mart_period_board's people with a team):
-- the sums leaderboard.team_sums takes of that board, in its order (teams as their first person appears in rank
-- order, first_rank), summed once per refresh instead of grouping 56,000 people in pandas per view. Names are the
-- first present in rank order, as pandas' first() takes them; sums of nothing are 0, as pandas' are.
CREATE OR REPLACE TABLE mart_period_team AS
SELECT team_id AS entity_id,
       arg_min(team_name, rank_raw) FILTER (WHERE team_name IS NOT NULL) AS entity_name,
       arg_min(org_name, rank_raw) FILTER (WHERE org_name IS NOT NULL) AS org_name,
       CAST(sum(tokens) AS BIGINT) AS tokens,
       COALESCE(sum(adjusted_tokens), 0) AS adjusted_tokens,
       count(*) FILTER (WHERE flagged) AS suspected_people,
       CAST(COALESCE(sum(suspected_tokens), 0) AS BIGINT) AS suspected_tokens,
       CAST(COALESCE(sum(scheduled_tokens), 0) AS BIGINT) AS scheduled_tokens,
       COALESCE(sum(outcome_units), 0) AS outcome_units,
       count(*) AS people,
       min(rank_raw) AS first_rank
FROM mart_period_board
WHERE team_id IS NOT NULL
GROUP BY team_id
ORDER BY first_rank;
