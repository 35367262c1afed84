-- grain: one row per top-level org: headcount = the attributed people with usage in it in the last 28 days of
-- data; people_ever = those with usage in it at any time (the series the page forecasts covers all history, so
-- k-anonymity is judged on everyone whose use is in it). Leavers and people who never used AI do not count.
-- From each identity's last day with tokens per tool (mart_identity_tool), as q_demand_tools.
WITH last AS (
    SELECT max(last_day) AS d FROM mart_identity_tool
), users AS (
    SELECT p.org_id, count(DISTINCT t.user_id) FILTER (WHERE t.last_active_day > last.d - 28) AS headcount,
           count(DISTINCT t.user_id) AS people_ever
    FROM mart_identity_tool t JOIN dim_people p USING (user_id), last
    WHERE t.is_attributed AND t.last_active_day IS NOT NULL
    GROUP BY p.org_id
), orgs AS (
    SELECT org_id, any_value(org_name) AS org_name FROM dim_people GROUP BY org_id
)
SELECT o.org_id, o.org_name, COALESCE(u.headcount, 0) AS headcount, COALESCE(u.people_ever, 0) AS people_ever
FROM orgs o LEFT JOIN users u USING (org_id)
ORDER BY o.org_name;
