-- grain: one row per model the company used in its last 28 days of demand (mart_demand_day up to its last day):
-- tokens, tokens by type (i, o, cr, cw) and the prices per million tokens by type in force on the last day (else
-- the '*' row's). q_demand_model_mix and q_demand_prices for the whole company (the Demand page's default scope)
-- read it instead of summing mart_demand_day and ranking the price book on every view.
CREATE OR REPLACE TABLE mart_demand_mix AS
WITH last AS (
    SELECT max(day) AS d FROM mart_demand_day
), mix AS (
    SELECT model, sum(tokens) AS tokens, sum(input_tokens) AS i, sum(output_tokens) AS o,
           sum(cache_read_tokens) AS cr, sum(cache_write_tokens) AS cw
    FROM mart_demand_day, last
    WHERE day > last.d - 28
    GROUP BY model
), book AS (
    SELECT b.* FROM price_book b, last WHERE b.effective_from <= CAST(last.d AS TIMESTAMP)
    QUALIFY row_number() OVER (PARTITION BY b.model ORDER BY b.effective_from DESC) = 1
)
SELECT m.model, m.tokens, m.i, m.o, m.cr, m.cw,
       COALESCE(b.input_usd_per_mtok, d.input_usd_per_mtok) AS input,
       COALESCE(b.output_usd_per_mtok, d.output_usd_per_mtok) AS output,
       COALESCE(b.cache_read_usd_per_mtok, d.cache_read_usd_per_mtok) AS cache_read,
       COALESCE(b.cache_write_usd_per_mtok, d.cache_write_usd_per_mtok) AS cache_write,
       b.model IS NULL AS default_prices
FROM mix m LEFT JOIN book b ON b.model = m.model LEFT JOIN (SELECT * FROM book WHERE model = '*') d ON true
ORDER BY m.tokens DESC, m.model;
