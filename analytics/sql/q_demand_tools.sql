-- grain: one row per tool with usage: people = the attributed people who used it in the last 28 days of data
-- (a tool nobody used in that time, e.g. one that stopped reporting, has 0); people_ever = at any time, the
-- size k-anonymity is judged on (the tool's series covers all history). Counted by the refresh from each
-- identity's first and last day with tokens per tool (mart_demand_scope.sql).
SELECT tool, people, people_ever
FROM mart_demand_scope
WHERE kind = 'tool'
ORDER BY tool;
