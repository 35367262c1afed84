-- grain: one row per top-level org and week: headcount, scoreboard-active and real (outcome-backed, not
-- suspected) people among the headcount, and all attributed tokens split into genuine, suspected inflation
-- and declared automation (usage outside an employment window counts in the tokens, not in the people)
CREATE OR REPLACE TABLE mart_org_week AS
SELECT week, org_id, count(*) FILTER (WHERE is_headcount) AS headcount, count(*) FILTER (WHERE is_active) AS active,
       count(*) FILTER (WHERE is_outcome_backed AND NOT is_suspected) AS real_active,
       count(*) FILTER (WHERE is_active AND uses_outcome_source) AS active_with_outcome_source,
       count(*) FILTER (WHERE is_suspected) AS suspected_people,
       CAST(sum(tokens) AS BIGINT) AS tokens, sum(cost_usd) AS cost_usd, sum(real_outcomes) AS real_outcomes,
       CAST(sum(suspected_tokens) AS BIGINT) AS suspected_tokens, sum(suspected_cost_usd) AS suspected_cost_usd,
       CAST(sum(scheduled_tokens) AS BIGINT) AS scheduled_tokens, sum(scheduled_cost_usd) AS scheduled_cost_usd
FROM mart_person_week GROUP BY week, org_id ORDER BY week, org_id;
