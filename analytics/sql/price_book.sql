-- grain: one row per model and date its prices change, with every token type's price in force then
-- A change to one token type keeps the others at their earlier price (carried forward per model).
-- A model's first prices also apply before their effective date, so early usage is never left unpriced.
-- effective_to: when the next prices take over (a far-future time for the prices in force now), so that usage
-- finds its prices by an equality and a range (stg_usage), not by an as-of join, which sorts every row.
CREATE OR REPLACE TABLE price_book AS
WITH changes AS (
    SELECT model, effective_from,
           max(usd_per_mtok) FILTER (WHERE token_type = 'input') AS input_usd_per_mtok,
           max(usd_per_mtok) FILTER (WHERE token_type = 'output') AS output_usd_per_mtok,
           max(usd_per_mtok) FILTER (WHERE token_type = 'cache_read') AS cache_read_usd_per_mtok,
           max(usd_per_mtok) FILTER (WHERE token_type = 'cache_write') AS cache_write_usd_per_mtok
    FROM prices GROUP BY model, effective_from
), carried AS (
    SELECT model, effective_from,
           last_value(input_usd_per_mtok IGNORE NULLS) OVER w AS input_usd_per_mtok,
           last_value(output_usd_per_mtok IGNORE NULLS) OVER w AS output_usd_per_mtok,
           last_value(cache_read_usd_per_mtok IGNORE NULLS) OVER w AS cache_read_usd_per_mtok,
           last_value(cache_write_usd_per_mtok IGNORE NULLS) OVER w AS cache_write_usd_per_mtok,
           row_number() OVER (PARTITION BY model ORDER BY effective_from) AS nth,
           lead(effective_from) OVER (PARTITION BY model ORDER BY effective_from) AS next_from
    FROM changes
    WINDOW w AS (PARTITION BY model ORDER BY effective_from ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT model,
       CASE WHEN nth = 1 THEN TIMESTAMP '1970-01-01' ELSE CAST(effective_from AS TIMESTAMP) END AS effective_from,
       COALESCE(CAST(next_from AS TIMESTAMP), TIMESTAMP '9999-12-31') AS effective_to,
       input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok
FROM carried;
