-- grain: one row per scope the Demand page forecasts (kind): the company, each tool in mart_identity_tool, each
-- top-level org in dim_people; the head counts the page asks of each, counted once per refresh:
-- - people, people_ever (tools and orgs): the attributed people who used it in the last 28 days of data, and at
--   any time, as q_demand_tools and q_demand_orgs count them (an org's people are those dim_people places in it);
-- - active_users: the attributed people with tokens in the scope in its own last 28 days of demand (the days up
--   to its last day in mart_demand_day), as q_demand_prices counts them from the person-days. Someone has tokens
--   on a day after a given one exactly when their last day with tokens (mart_identity_tool) is after it.
CREATE OR REPLACE TABLE mart_demand_scope AS
WITH last AS (
    SELECT max(last_day) AS d FROM mart_identity_tool
), person_tool AS (  -- each attributed person's last day with tokens per tool (over their identities)
    SELECT user_id, tool, max(last_active_day) AS last_active_day
    FROM mart_identity_tool
    WHERE is_attributed AND last_active_day IS NOT NULL
    GROUP BY user_id, tool
), person AS (  -- and over all tools, with the org dim_people places them in (NULL: none)
    SELECT t.user_id, p.org_id, max(t.last_active_day) AS last_active_day
    FROM person_tool t LEFT JOIN dim_people p USING (user_id)
    GROUP BY t.user_id, p.org_id
), tools AS (
    SELECT t.tool, count(u.user_id) FILTER (WHERE u.last_active_day > last.d - 28) AS people,
           count(u.user_id) AS people_ever
    FROM (SELECT DISTINCT tool FROM mart_identity_tool WHERE tool IS NOT NULL) t LEFT JOIN person_tool u USING (tool), last
    GROUP BY t.tool
), orgs AS (
    SELECT o.org_id, any_value(o.org_name) AS org_name,
           count(u.user_id) FILTER (WHERE u.last_active_day > last.d - 28) AS people, count(u.user_id) AS people_ever
    FROM (SELECT org_id, any_value(org_name) AS org_name FROM dim_people GROUP BY org_id) o
    LEFT JOIN person u ON u.org_id = o.org_id, last
    GROUP BY o.org_id
), active AS (
    SELECT 'company' AS kind, CAST(NULL AS VARCHAR) AS tool, CAST(NULL AS VARCHAR) AS org_id, count(*) AS active_users
    FROM person u, (SELECT max(day) AS d FROM mart_demand_day) l
    WHERE u.last_active_day > l.d - 28
    UNION ALL
    SELECT 'tool', u.tool, NULL, count(*)
    FROM person_tool u JOIN (SELECT tool, max(day) AS d FROM mart_demand_day GROUP BY tool) l USING (tool)
    WHERE u.last_active_day > l.d - 28
    GROUP BY u.tool
    UNION ALL
    SELECT 'org', NULL, u.org_id, count(*)
    FROM person u JOIN (SELECT org_id, max(day) AS d FROM mart_demand_day GROUP BY org_id) l USING (org_id)
    WHERE u.last_active_day > l.d - 28
    GROUP BY u.org_id
), scopes AS (
    SELECT 'company' AS kind, CAST(NULL AS VARCHAR) AS tool, CAST(NULL AS VARCHAR) AS org_id,
           CAST(NULL AS VARCHAR) AS org_name, CAST(NULL AS BIGINT) AS people, CAST(NULL AS BIGINT) AS people_ever
    UNION ALL
    SELECT 'tool', tool, NULL, NULL, people, people_ever FROM tools
    UNION ALL
    SELECT 'org', NULL, org_id, org_name, people, people_ever FROM orgs
)
SELECT s.kind, s.tool, s.org_id, s.org_name, s.people, s.people_ever, COALESCE(a.active_users, 0) AS active_users
FROM scopes s
LEFT JOIN active a ON a.kind = s.kind AND a.tool IS NOT DISTINCT FROM s.tool AND a.org_id IS NOT DISTINCT FROM s.org_id
ORDER BY s.kind, s.tool, s.org_id;
