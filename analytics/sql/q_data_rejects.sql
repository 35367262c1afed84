-- grain: one row per rejected record, latest first; all files, or the one named by $file
SELECT rejected_at, file, table_name, line, reason, left(raw_record, $raw_chars) AS raw_record
FROM rejected_rows
WHERE CAST($file AS VARCHAR) IS NULL OR file = $file
ORDER BY rejected_at DESC, file, line
LIMIT $max_rows;
