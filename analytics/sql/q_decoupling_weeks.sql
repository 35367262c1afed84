-- grain: one row per top-level org and week overlapping [$start, $end]: its people, tokens and outcome units,
-- and the share of its tokens spent where outcomes can be measured at all (mart_person_week_tool.tool_reports)
SELECT m.org_id, COALESCE(any_value(t.team_name), m.org_id) AS org_name, m.week,
       count(DISTINCT m.user_id) FILTER (WHERE m.is_headcount) AS people,
       CAST(sum(m.tokens) AS BIGINT) AS tokens,
       sum(m.edits_accepted) * $w_edit + sum(m.commits) * $w_commit + sum(m.prs_merged) * $w_pr
           + sum(m.reviews) * $w_review + sum(m.tickets_closed) * $w_ticket AS outcome_units,
       COALESCE(sum(m.tokens) FILTER (WHERE m.tool_reports) / nullif(sum(m.tokens), 0), 0) AS measurable_share
FROM mart_person_week_tool m LEFT JOIN dim_teams t ON t.team_id = m.org_id
WHERE m.week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
GROUP BY m.org_id, m.week ORDER BY m.org_id, m.week;
