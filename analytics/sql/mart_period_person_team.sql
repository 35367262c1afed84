-- grain: one row per person and team with usage in the default period (the weeks of the last $weeks weeks of
-- data, period_lo to period_hi, as mart_period_person_tool): q_org_people's per-view sums over mart_person_week,
-- summed once per refresh; last_week places a person who moved in the team of their latest week in scope.
CREATE OR REPLACE TABLE mart_period_person_team AS
WITH period AS (
    SELECT CAST(date_trunc('week', greatest(min(day), max(day) - (7 * $weeks - 1))) AS DATE) AS lo,
           CAST(date_trunc('week', max(day)) AS DATE) AS hi
    FROM mart_person_day_tool
)
SELECT p.lo AS period_lo, p.hi AS period_hi, w.user_id, w.team_id, max(w.week) AS last_week,
       sum(w.tokens) AS tokens, sum(w.real_outcomes) AS real_outcomes,
       count(*) AS active_weeks, count(*) FILTER (WHERE w.is_suspected) AS suspect_weeks
FROM mart_person_week w, period p
WHERE w.week BETWEEN p.lo AND p.hi AND w.tokens > 0
GROUP BY ALL
ORDER BY w.user_id, w.team_id;
