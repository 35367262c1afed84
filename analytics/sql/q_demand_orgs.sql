-- grain: one row per top-level org with its people (the org filter of the demand page hides orgs under k)
SELECT org_id, any_value(org_name) AS org_name, count(*) AS headcount
FROM dim_people
GROUP BY org_id
ORDER BY org_name;
