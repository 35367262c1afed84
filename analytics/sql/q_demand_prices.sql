-- grain: one row: USD per million tokens of each type, blended over the model mix of a scope's last 28 days
-- ($tool, $org_id: NULL for all), at the prices in force on the last day (a model without prices of its own
-- takes the default '*' row); also the people who used AI in the scope in those 28 days: for the company, a tool or
-- an org ($stored) as the refresh counted them (mart_demand_scope), else counted here from the person-days
WITH last AS (
    SELECT max(day) AS d FROM mart_demand_day
    WHERE ($tool IS NULL OR tool = $tool) AND ($org_id IS NULL OR org_id = $org_id)
), mix AS (
    SELECT model, sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cache_read_tokens) AS cr,
           sum(cache_write_tokens) AS cw
    FROM mart_demand_day, last
    WHERE day > last.d - 28 AND ($tool IS NULL OR tool = $tool) AND ($org_id IS NULL OR org_id = $org_id)
    GROUP BY model
), book AS (
    SELECT b.* FROM price_book b, last WHERE b.effective_from <= CAST(last.d AS TIMESTAMP)
    QUALIFY row_number() OVER (PARTITION BY b.model ORDER BY b.effective_from DESC) = 1
), priced AS (
    SELECT m.*, COALESCE(b.input_usd_per_mtok, d.input_usd_per_mtok) AS p_i,
           COALESCE(b.output_usd_per_mtok, d.output_usd_per_mtok) AS p_o,
           COALESCE(b.cache_read_usd_per_mtok, d.cache_read_usd_per_mtok) AS p_cr,
           COALESCE(b.cache_write_usd_per_mtok, d.cache_write_usd_per_mtok) AS p_cw
    FROM mix m LEFT JOIN book b ON b.model = m.model LEFT JOIN (SELECT * FROM book WHERE model = '*') d ON true
), users AS (
    -- a tool or org the refresh did not count has no person-days, so nobody used it
    SELECT COALESCE(max(active_users), 0) AS active_users
    FROM mart_demand_scope
    WHERE $stored AND kind = CASE WHEN $tool IS NOT NULL THEN 'tool' WHEN $org_id IS NOT NULL THEN 'org' ELSE 'company' END
      AND tool IS NOT DISTINCT FROM $tool AND org_id IS NOT DISTINCT FROM $org_id
    HAVING $stored
    UNION ALL
    SELECT count(DISTINCT t.user_id)
    FROM mart_person_day_tool t LEFT JOIN dim_people p USING (user_id), last
    WHERE NOT $stored AND t.is_attributed AND t.tokens > 0 AND t.day > last.d - 28
      AND ($tool IS NULL OR t.tool = $tool) AND ($org_id IS NULL OR p.org_id = $org_id)
    HAVING NOT $stored
)
SELECT sum(i * p_i) / NULLIF(sum(i), 0) AS input, sum(o * p_o) / NULLIF(sum(o), 0) AS output,
       sum(cr * p_cr) / NULLIF(sum(cr), 0) AS cache_read, sum(cw * p_cw) / NULLIF(sum(cw), 0) AS cache_write,
       (SELECT active_users FROM users) AS active_users, count(DISTINCT model) AS models
FROM priced;
