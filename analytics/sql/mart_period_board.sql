-- grain: one row per person with tokens in the default period (mart_period_person_tool's weeks): the company's
-- people leaderboard, all tools, as q_leaderboard_people gives it (the CTE `people`, which marts.py puts before
-- this query), ranked as analytics/leaderboard.py ranks a board: adjusted tokens kept within [0, tokens], rank 1
-- the most tokens, ties broken by user_id, missing values last. Stored in rank order; the whole-company default
-- view reads it as it is, and every other view of the period takes its peer standards from it.
SELECT *, rank_raw - rank_adjusted AS rank_shift
FROM (
    SELECT *,
           row_number() OVER (ORDER BY tokens DESC, user_id) AS rank_raw,
           row_number() OVER (ORDER BY adjusted_tokens DESC NULLS LAST, user_id) AS rank_adjusted
    FROM (
        SELECT * REPLACE (
            CASE WHEN adjusted_tokens IS NOT NULL THEN least(greatest(adjusted_tokens, 0), tokens) END
                AS adjusted_tokens)
        FROM people
    )
)
ORDER BY rank_raw
