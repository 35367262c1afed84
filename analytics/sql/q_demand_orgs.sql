-- grain: one row per top-level org: headcount = the attributed people with usage in it in the last 28 days of
-- data; people_ever = those with usage in it at any time (the series the page forecasts covers all history, so
-- k-anonymity is judged on everyone whose use is in it). Leavers and people who never used AI do not count.
-- Counted by the refresh from each identity's last day with tokens per tool (mart_demand_scope.sql).
SELECT org_id, org_name, people AS headcount, people_ever
FROM mart_demand_scope
WHERE kind = 'org'
ORDER BY org_name;
