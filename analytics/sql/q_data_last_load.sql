-- grain: one row: the latest logged load (a batch), which changes even when a load only rejected rows
SELECT max(batch_id) AS last_batch FROM ingest_log;
