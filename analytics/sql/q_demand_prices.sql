-- grain: one row: USD per million tokens of each type, blended over the model mix of a scope's last 28 days
-- ($tool, $org_id: NULL for all), at the prices in force on the last day (a model without prices of its own
-- takes the default '*' row); also the people who used AI in the scope in those 28 days
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
    SELECT count(DISTINCT t.user_id) AS active_users
    FROM mart_person_day_tool t LEFT JOIN dim_people p USING (user_id), last
    WHERE t.is_attributed AND t.tokens > 0 AND t.day > last.d - 28
      AND ($tool IS NULL OR t.tool = $tool) AND ($org_id IS NULL OR p.org_id = $org_id)
)
SELECT sum(i * p_i) / NULLIF(sum(i), 0) AS input, sum(o * p_o) / NULLIF(sum(o), 0) AS output,
       sum(cr * p_cr) / NULLIF(sum(cr), 0) AS cache_read, sum(cw * p_cw) / NULLIF(sum(cw), 0) AS cache_write,
       (SELECT active_users FROM users) AS active_users, count(DISTINCT model) AS models
FROM priced;
