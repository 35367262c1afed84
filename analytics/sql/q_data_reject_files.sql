-- grain: one row per file with rejected records: how many, for which tables, when last
SELECT file, string_agg(DISTINCT table_name, ', ' ORDER BY table_name) AS tables, count(*) AS rejected,
       max(rejected_at) AS last_rejected_at
FROM rejected_rows
GROUP BY file
ORDER BY last_rejected_at DESC, file;
