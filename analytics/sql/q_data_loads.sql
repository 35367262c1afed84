-- grain: one row per logged load (a file into one table), latest first
SELECT finished_at, file, table_name, format, rows_read, inserted, updated, duplicates, rejected, message
FROM ingest_log
ORDER BY finished_at DESC, batch_id DESC
LIMIT $max_rows;
