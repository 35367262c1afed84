-- grain: one row: the company's headline for the week starting $week (a Monday)
SELECT CAST($week AS DATE) AS week, COALESCE(sum(headcount), 0) AS headcount, COALESCE(sum(active), 0) AS active,
       COALESCE(sum(real_active), 0) AS real_active
FROM mart_org_week WHERE week = CAST($week AS DATE);
