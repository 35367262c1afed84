-- grain: one row per top-level org and week of mart_person_week_tool: its people (headcount people with usage),
-- tokens, outcomes by kind and the tokens spent where outcomes can be measured at all (tool_reports), summed
-- once per refresh for the Overview's decoupling monitor (q_decoupling_weeks), which weighs the kinds
CREATE OR REPLACE TABLE mart_org_week_outcomes AS
SELECT org_id, week,
       count(DISTINCT user_id) FILTER (WHERE is_headcount) AS people,
       sum(tokens) AS tokens, sum(tokens) FILTER (WHERE tool_reports) AS measurable_tokens,
       sum(edits_accepted) AS edits_accepted, sum(commits) AS commits, sum(prs_merged) AS prs_merged,
       sum(reviews) AS reviews, sum(tickets_closed) AS tickets_closed
FROM mart_person_week_tool
GROUP BY org_id, week
ORDER BY org_id, week;
