-- grain: one row per top-level org over the weeks in [$start, $end]
-- Shares are averages of the weekly shares (people-weeks), so orgs of different sizes compare fairly.
-- outcome_coverage: the share of active people-weeks spent (at least partly) in tools that report
-- outcomes at all. Use of a tool that reports none can never count as real, so low coverage means
-- missing data, not idle people.
SELECT o.org_id, COALESCE(t.team_name, o.org_id) AS org_name,
       round(avg(o.headcount)) AS headcount,
       sum(o.active) / nullif(sum(o.headcount), 0) AS active_share,
       sum(o.real_active) / nullif(sum(o.headcount), 0) AS real_share,
       CAST(sum(o.tokens) AS BIGINT) AS tokens, sum(o.cost_usd) AS cost_usd, sum(o.real_outcomes) AS real_outcomes,
       sum(o.tokens) / nullif(sum(o.real_outcomes), 0) AS tokens_per_real_outcome,
       sum(o.active_with_outcome_source) / nullif(sum(o.active), 0) AS outcome_coverage
FROM mart_org_week o LEFT JOIN dim_teams t ON t.team_id = o.org_id
WHERE o.week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
GROUP BY ALL ORDER BY tokens DESC;
