-- grain: one row per person on the company's board of the default period with usage placed in a team: the org
-- explorer's people for a viewer who sees everyone and no subtree (q_org_board_people over the CTE `people`, which
-- marts.py puts before this query: q_org_people over mart_period_person_team and the board mart_period_board),
-- joined once per refresh; person_rank orders them as the query does, most tokens first, then user_id
SELECT row_number() OVER (ORDER BY tokens DESC, user_id) AS person_rank, *
FROM people
ORDER BY person_rank
