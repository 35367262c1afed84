-- grain: one row per week and tool of the viewer themself ($scope_user): tokens, cost and outcomes. The person
-- comes from the viewer's identity only; there is no other parameter to point it at someone else.
SELECT week, tool, CAST(tokens AS BIGINT) AS tokens, cost_usd, CAST(cache_read_tokens AS BIGINT) AS cache_read_tokens,
       CAST(suspected_tokens AS BIGINT) AS suspected_tokens, CAST(scheduled_tokens AS BIGINT) AS scheduled_tokens,
       edits_accepted, commits, prs_merged, reviews, tickets_closed, tool_reports
FROM mart_person_week_tool
WHERE user_id = $scope_user AND week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
ORDER BY week, tool;
