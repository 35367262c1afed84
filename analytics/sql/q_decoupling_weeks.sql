-- grain: one row per top-level org and week overlapping [$start, $end]: its people, tokens and outcome units,
-- and the share of its tokens spent where outcomes can be measured at all (mart_person_week_tool.tool_reports),
-- from the refresh's sums per org and week (mart_org_week_outcomes)
SELECT m.org_id, COALESCE(t.team_name, m.org_id) AS org_name, m.week, m.people,
       CAST(m.tokens AS BIGINT) AS tokens,
       m.edits_accepted * $w_edit + m.commits * $w_commit + m.prs_merged * $w_pr
           + m.reviews * $w_review + m.tickets_closed * $w_ticket AS outcome_units,
       COALESCE(m.measurable_tokens / nullif(m.tokens, 0), 0) AS measurable_share
FROM mart_org_week_outcomes m LEFT JOIN dim_teams t ON t.team_id = m.org_id
WHERE m.week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
ORDER BY m.org_id, m.week;
