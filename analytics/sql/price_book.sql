-- grain: one row per model and effective date, USD per million tokens by token type
CREATE OR REPLACE TABLE price_book AS
SELECT model, CAST(effective_from AS TIMESTAMP) AS effective_from,
       max(usd_per_mtok) FILTER (WHERE token_type = 'input') AS input_usd_per_mtok,
       max(usd_per_mtok) FILTER (WHERE token_type = 'output') AS output_usd_per_mtok,
       max(usd_per_mtok) FILTER (WHERE token_type = 'cache_read') AS cache_read_usd_per_mtok,
       max(usd_per_mtok) FILTER (WHERE token_type = 'cache_write') AS cache_write_usd_per_mtok
FROM prices GROUP BY model, effective_from;
