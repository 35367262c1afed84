-- grain: one row per model used in a scope's last 28 days ($tool, $org_id: NULL for all): its share of the
-- scope's tokens and its prices per million tokens by type in force on the last day (else the '*' row)
WITH last AS (
    SELECT max(day) AS d FROM mart_demand_day
    WHERE ($tool IS NULL OR tool = $tool) AND ($org_id IS NULL OR org_id = $org_id)
), mix AS (
    SELECT model, sum(tokens) AS tokens
    FROM mart_demand_day, last
    WHERE day > last.d - 28 AND ($tool IS NULL OR tool = $tool) AND ($org_id IS NULL OR org_id = $org_id)
    GROUP BY model
), book AS (
    SELECT b.* FROM price_book b, last WHERE b.effective_from <= CAST(last.d AS TIMESTAMP)
    QUALIFY row_number() OVER (PARTITION BY b.model ORDER BY b.effective_from DESC) = 1
)
SELECT m.model, m.tokens, m.tokens / NULLIF(sum(m.tokens) OVER (), 0) AS share,
       COALESCE(b.input_usd_per_mtok, d.input_usd_per_mtok) AS input,
       COALESCE(b.output_usd_per_mtok, d.output_usd_per_mtok) AS output,
       COALESCE(b.cache_read_usd_per_mtok, d.cache_read_usd_per_mtok) AS cache_read,
       COALESCE(b.cache_write_usd_per_mtok, d.cache_write_usd_per_mtok) AS cache_write,
       b.model IS NULL AS default_prices
FROM mix m LEFT JOIN book b ON b.model = m.model LEFT JOIN (SELECT * FROM book WHERE model = '*') d ON true
ORDER BY m.tokens DESC, m.model;
