-- grain: one row: the first and last day the marts hold (min/max are answered from zonemaps, not a scan)
SELECT min(day) AS first_day, max(day) AS last_day FROM mart_person_day_tool;
