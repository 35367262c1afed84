-- grain: one row: how many people a board holds, and their raw and quality-adjusted tokens, summed as
-- leaderboard.totals sums them (adjusted tokens kept within [0, tokens]), from the CTE `board` (q_period_board or
-- q_leaderboard_people, which Warehouse.leaderboard_totals puts before this query): the Overview shows only these
-- totals, so the board's rows stay in DuckDB
SELECT count(*) AS people, COALESCE(sum(tokens), 0) AS tokens,
       COALESCE(sum(least(greatest(adjusted_tokens, 0), tokens)), 0) AS adjusted_tokens
FROM board;
