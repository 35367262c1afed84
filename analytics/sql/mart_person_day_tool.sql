-- grain: one row per identity (a person, or an unattributed telemetry identity), day, tool
-- A definition (analytics/marts.py builds or updates the table from it): the rows of the local days [$lo, $hi].
-- Usage and outcomes are summed separately and then combined, so a day with outcomes but no usage
-- (or the reverse) still gets its row. real_outcomes counts the kinds that show work got done.
WITH usage AS (
    SELECT identity, any_value(user_id) AS user_id, day, tool,
           CAST(sum(input_tokens) AS BIGINT) AS input_tokens, CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
           CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens, CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
           CAST(sum(tokens) AS BIGINT) AS tokens, sum(cost_usd) AS cost_usd, CAST(sum(requests) AS BIGINT) AS requests,
           CAST(sum(human_prompts) AS BIGINT) AS human_prompts, CAST(sum(agent_steps) AS BIGINT) AS agent_steps,
           CAST(sum(scheduled_requests) AS BIGINT) AS scheduled_requests, count(DISTINCT session_id) AS sessions,
           CAST(COALESCE(sum(tokens) FILTER (WHERE initiated_by = 'schedule'), 0) AS BIGINT) AS scheduled_tokens,
           COALESCE(sum(cost_usd) FILTER (WHERE initiated_by = 'schedule'), 0) AS scheduled_cost_usd,
           sum(active_minutes) AS active_minutes
    FROM stg_usage($lo, $hi) GROUP BY identity, day, tool
), done AS (
    SELECT identity, any_value(user_id) AS user_id, day, tool,
           sum(quantity) FILTER (WHERE kind = 'edit_accepted') AS edits_accepted,
           sum(quantity) FILTER (WHERE kind = 'edit_rejected') AS edits_rejected,
           sum(quantity) FILTER (WHERE kind = 'lines_added') AS lines_added,
           sum(quantity) FILTER (WHERE kind = 'lines_removed') AS lines_removed,
           sum(quantity) FILTER (WHERE kind = 'commit') AS commits,
           sum(quantity) FILTER (WHERE kind = 'pr_opened') AS prs_opened,
           sum(quantity) FILTER (WHERE kind = 'pr_merged') AS prs_merged,
           sum(quantity) FILTER (WHERE kind = 'review') AS reviews,
           sum(quantity) FILTER (WHERE kind = 'ticket_closed') AS tickets_closed,
           sum(quantity) FILTER (WHERE kind = 'other') AS other_outcomes,
           sum(quantity) FILTER (WHERE kind IN ('edit_accepted', 'commit', 'pr_opened', 'pr_merged', 'review',
                                                'ticket_closed')) AS real_outcomes
    FROM stg_outcomes($lo, $hi) GROUP BY identity, day, tool
)
SELECT COALESCE(u.identity, d.identity) AS identity, COALESCE(u.user_id, d.user_id) AS user_id,
       COALESCE(u.user_id, d.user_id) IS NOT NULL AS is_attributed,
       COALESCE(u.day, d.day) AS day, CAST(date_trunc('week', COALESCE(u.day, d.day)) AS DATE) AS week,
       COALESCE(u.tool, d.tool) AS tool,
       COALESCE(u.input_tokens, 0) AS input_tokens, COALESCE(u.output_tokens, 0) AS output_tokens,
       COALESCE(u.cache_read_tokens, 0) AS cache_read_tokens, COALESCE(u.cache_write_tokens, 0) AS cache_write_tokens,
       COALESCE(u.tokens, 0) AS tokens, COALESCE(u.cost_usd, 0) AS cost_usd, COALESCE(u.requests, 0) AS requests,
       COALESCE(u.human_prompts, 0) AS human_prompts, COALESCE(u.agent_steps, 0) AS agent_steps,
       COALESCE(u.scheduled_requests, 0) AS scheduled_requests, COALESCE(u.sessions, 0) AS sessions,
       COALESCE(u.scheduled_tokens, 0) AS scheduled_tokens, COALESCE(u.scheduled_cost_usd, 0) AS scheduled_cost_usd,
       u.active_minutes,
       COALESCE(d.edits_accepted, 0) AS edits_accepted, COALESCE(d.edits_rejected, 0) AS edits_rejected,
       COALESCE(d.lines_added, 0) AS lines_added, COALESCE(d.lines_removed, 0) AS lines_removed,
       COALESCE(d.commits, 0) AS commits, COALESCE(d.prs_opened, 0) AS prs_opened,
       COALESCE(d.prs_merged, 0) AS prs_merged, COALESCE(d.reviews, 0) AS reviews,
       COALESCE(d.tickets_closed, 0) AS tickets_closed, COALESCE(d.other_outcomes, 0) AS other_outcomes,
       COALESCE(d.real_outcomes, 0) AS real_outcomes
FROM usage u FULL OUTER JOIN done d ON d.identity = u.identity AND d.day = u.day AND d.tool = u.tool
ORDER BY day, identity, tool
