-- grain: one row per tool that reports outcomes at all (int_reporting_tools), and one per person whose
-- outcomes come credited to no tool in use (int_person_level: commits from a git host, outcomes naming no tool),
-- so all their use can be judged by outcomes. Whole-history facts: when a new batch changes them, a refresh
-- recomputes every week that depends on them (analytics/marts.py).
CREATE OR REPLACE TABLE int_reporting_tools AS
SELECT tool, sum(tokens) = 0 AS person_level FROM mart_person_day_tool GROUP BY tool HAVING sum(real_outcomes) > 0;

CREATE OR REPLACE TABLE int_person_level AS
SELECT DISTINCT user_id FROM mart_person_day_tool
WHERE is_attributed AND real_outcomes > 0 AND tool IN (SELECT tool FROM int_reporting_tools WHERE person_level);
