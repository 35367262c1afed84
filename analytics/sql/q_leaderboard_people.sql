-- grain: one row per person with tokens in the weeks overlapping [$start, $end], within the tool ($tool, NULL
-- for all) and org subtree ($subtree, NULL for the whole company) asked for, and within the viewer's scope.
-- Definitions: analytics/leaderboard.py.
-- Outcome yield and its peers are judged on the person's whole judgeable use (every tool that reports outcomes)
-- across the whole company, so a filter changes which tokens are shown, never the standard they are held to.
WITH span AS (
    -- one pass over the mart: everything below derives from these person x tool x team sums. $stored: the weeks
    -- asked for are the default period's, already summed by the refresh (mart_period_person_tool); the branch
    -- not taken is a constant false, which the planner drops
    SELECT user_id, tool, team_id, tool_reports, tokens, suspected_tokens, scheduled_tokens, cost_usd,
           kept_cache_read_tokens,
           edits_accepted * $w_edit + commits * $w_commit + prs_merged * $w_pr + reviews * $w_review
               + tickets_closed * $w_ticket AS outcome_units,
           flagged
    FROM mart_period_person_tool
    WHERE $stored
    UNION ALL
    SELECT user_id, tool, team_id, tool_reports,
           sum(tokens) AS tokens, sum(suspected_tokens) AS suspected_tokens,
           sum(scheduled_tokens) AS scheduled_tokens, sum(cost_usd) AS cost_usd,
           -- cache reads inside the kept tokens, in proportion when a week was partly suspected
           sum(cache_read_tokens * (tokens - suspected_tokens) / nullif(tokens, 0)) AS kept_cache_read_tokens,
           -- outcomes of suspect weeks go with those weeks' tokens, which are removed already
           sum(edits_accepted * $w_edit + commits * $w_commit + prs_merged * $w_pr + reviews * $w_review
               + tickets_closed * $w_ticket) FILTER (WHERE NOT is_suspected) AS outcome_units,
           bool_or(is_suspected) AS flagged
    FROM mart_person_week_tool
    WHERE NOT $stored AND week BETWEEN date_trunc('week', CAST($start AS DATE)) AND CAST($end AS DATE)
    GROUP BY ALL
), person AS (
    SELECT user_id, sum(tokens - suspected_tokens) FILTER (WHERE tool_reports) AS judged_tokens,
           COALESCE(sum(outcome_units), 0) AS outcome_units, arg_max(tool, tokens) AS main_tool
    FROM (SELECT user_id, tool, tool_reports, sum(tokens) AS tokens, sum(suspected_tokens) AS suspected_tokens,
                 sum(outcome_units) AS outcome_units
          FROM span GROUP BY ALL)
    GROUP BY user_id
), judged AS (
    SELECT p.*, d.role,
           CASE WHEN p.judged_tokens >= $min_tokens THEN p.outcome_units * 1e6 / p.judged_tokens END AS yield_per_m
    FROM person p JOIN dim_people d USING (user_id)
), peers AS (
    SELECT *,
           count(yield_per_m) OVER (PARTITION BY main_tool, role) AS n_role,
           median(yield_per_m) OVER (PARTITION BY main_tool, role) AS med_role,
           count(yield_per_m) OVER (PARTITION BY main_tool) AS n_tool,
           median(yield_per_m) OVER (PARTITION BY main_tool) AS med_tool,
           median(yield_per_m) OVER () AS med_all
    FROM judged
), factor AS (
    -- $board: the default period's peer standards, as the refresh stored them with the company's board
    -- (mart_period_board: they depend on the period only, never on the tool, subtree or scope shown)
    SELECT user_id, main_tool, outcome_units, yield_per_m, peer_yield_per_m, peer_group
    FROM mart_period_board
    WHERE $board
    UNION ALL
    SELECT user_id, main_tool, outcome_units, yield_per_m,
           CASE WHEN n_role >= $min_peers THEN med_role WHEN n_tool >= $min_peers THEN med_tool ELSE med_all END
               AS peer_yield_per_m,
           CASE WHEN n_role >= $min_peers THEN main_tool || ' / ' || role
                WHEN n_tool >= $min_peers THEN main_tool ELSE 'everyone' END AS peer_group
    FROM peers
    WHERE NOT $board
), shown AS (
    SELECT user_id, sum(tokens) AS tokens, sum(suspected_tokens) AS suspected_tokens,
           sum(scheduled_tokens) AS scheduled_tokens, sum(cost_usd) AS cost_usd,
           sum(kept_cache_read_tokens) AS kept_cache_read_tokens,
           sum(tokens - suspected_tokens - (1 - $cache_weight) * COALESCE(kept_cache_read_tokens, 0)) AS effective,
           sum(tokens - suspected_tokens - (1 - $cache_weight) * COALESCE(kept_cache_read_tokens, 0))
               FILTER (WHERE tool_reports) AS judged_effective,
           bool_or(flagged) AS flagged
    FROM span
    WHERE ($tool IS NULL OR tool = $tool)
      AND ($subtree IS NULL OR team_id IN (SELECT team_id FROM team_ancestors WHERE ancestor_id = $subtree))
      AND ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
    GROUP BY user_id HAVING sum(tokens) > 0
), scored AS (
    SELECT s.*, f.main_tool, f.peer_group, f.outcome_units, f.yield_per_m, f.peer_yield_per_m,
           CASE WHEN f.yield_per_m IS NULL OR COALESCE(f.peer_yield_per_m, 0) <= 0 THEN 1.0
                ELSE least(1.0, f.yield_per_m / ($far_below * f.peer_yield_per_m)) END AS yield_factor
    FROM shown s JOIN factor f USING (user_id)
)
SELECT s.user_id, d.display_name, d.team_id, d.team_name, d.org_name,
       CAST(s.tokens AS BIGINT) AS tokens, CAST(s.suspected_tokens AS BIGINT) AS suspected_tokens,
       CAST(s.scheduled_tokens AS BIGINT) AS scheduled_tokens, s.cost_usd,
       CAST(COALESCE(s.kept_cache_read_tokens, 0) AS BIGINT) AS kept_cache_read_tokens, s.flagged,
       s.main_tool, s.peer_group, s.outcome_units, s.yield_per_m, s.peer_yield_per_m, s.yield_factor,
       -- only use that outcomes can judge is discounted; the rest counts as it is (missing is not zero)
       s.effective - (1 - s.yield_factor) * COALESCE(s.judged_effective, 0) AS adjusted_tokens
FROM scored s JOIN dim_people d USING (user_id);
