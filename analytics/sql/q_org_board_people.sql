-- grain: one row per person with usage in the viewer's scope in the period who is on the board: the people of
-- the CTE `placed` (q_org_people or q_org_people_company: their team, outcomes and weeks) with the board's tokens,
-- cost, adjusted tokens (within [0, tokens]) and flag (the CTE `board`, q_leaderboard_people or q_period_board),
-- most tokens first, then user_id. queries.py and marts.py put the two CTEs before this query.
SELECT p.user_id, b.display_name, p.team_id, p.real_outcomes, p.active_weeks, p.suspect_weeks, b.tokens,
       b.suspected_tokens, b.scheduled_tokens, b.cost_usd,
       CASE WHEN b.adjusted_tokens IS NOT NULL THEN least(greatest(b.adjusted_tokens, 0), b.tokens) END
           AS adjusted_tokens,
       b.flagged, p.team_name
FROM placed p JOIN board b USING (user_id)
ORDER BY b.tokens DESC, p.user_id
