-- grain: one row per person on the company's board of the default period with usage placed in a team, the whole
-- company (q_org_board_people for a viewer who sees everyone and no subtree), as the refresh joined them
-- (mart_period_person), stored in its order, most tokens first, then user_id (a scan keeps it, as q_period_board's)
SELECT user_id, display_name, team_id, real_outcomes, active_weeks, suspect_weeks, tokens, suspected_tokens,
       scheduled_tokens, cost_usd, adjusted_tokens, flagged, team_name
FROM mart_period_person;
