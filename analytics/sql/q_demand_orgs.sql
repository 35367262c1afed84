-- grain: one row per top-level org: headcount = the attributed people with usage in it in the last 28 days of
-- data (the org filter of the demand page hides orgs under k, so no org's series shows fewer people's use;
-- leavers and people who never used AI do not count)
WITH last AS (
    SELECT max(day) AS d FROM mart_person_day_tool
), users AS (
    SELECT p.org_id, count(DISTINCT t.user_id) AS headcount
    FROM mart_person_day_tool t JOIN dim_people p USING (user_id), last
    WHERE t.is_attributed AND t.tokens > 0 AND t.day > last.d - 28
    GROUP BY p.org_id
), orgs AS (
    SELECT org_id, any_value(org_name) AS org_name FROM dim_people GROUP BY org_id
)
SELECT o.org_id, o.org_name, COALESCE(u.headcount, 0) AS headcount
FROM orgs o LEFT JOIN users u USING (org_id)
ORDER BY o.org_name;
