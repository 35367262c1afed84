-- grain: one row per person in the company's board of the default period (mart_period_board), stored in rank
-- order (a scan keeps it; leaderboard.people_board sorts a board that arrives otherwise)
SELECT * FROM mart_period_board;
