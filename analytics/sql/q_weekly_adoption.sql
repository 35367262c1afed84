-- grain: one row per week in [$start, $end]: headcount, scoreboard-active and outcome-backed people
-- $org_id NULL means the whole company.
SELECT week, sum(headcount) AS headcount, sum(active) AS active, sum(real_active) AS real_active,
       sum(active) / nullif(sum(headcount), 0) AS active_share,
       sum(real_active) / nullif(sum(headcount), 0) AS real_share
FROM mart_org_week
WHERE week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
  AND ($org_id IS NULL OR org_id = $org_id)
GROUP BY week ORDER BY week;
