-- grain: one row per loaded table of usage or outcomes (source) and tool (NULL: outcomes credited to none): its
-- rows and the latest batch that loaded one. The Data page's row counts (q_data_sources), kept by the refresh
-- (analytics/marts.py _source_rows) instead of counting every event on every view: this file makes the table
-- (empty; each source is then counted whole), mart_source_rows_add.sql adds the rows of the loads since.
CREATE OR REPLACE TABLE mart_source_rows (source VARCHAR, tool VARCHAR, rows_loaded BIGINT, last_batch BIGINT);
