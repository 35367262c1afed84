-- grain: one row: what the warehouse holds
SELECT (SELECT count(*) FROM people) AS people,
       (SELECT count(*) FROM teams) AS teams,
       -- events in the database, plus those of the lake the last refresh read (analytics/lake.py), if any
       (SELECT count(*) FROM usage_events)
           + COALESCE((SELECT TRY_CAST(value AS BIGINT) FROM meta WHERE key = 'lake_events'), 0) AS events,
       (SELECT count(*) FROM usage_daily) AS daily_rows,
       (SELECT count(*) FROM outcomes) AS outcomes,
       (SELECT COALESCE(sum(tokens), 0) FROM mart_person_day_tool) AS tokens,
       (SELECT COALESCE(sum(cost_usd), 0) FROM mart_person_day_tool) AS cost_usd,
       (SELECT count(DISTINCT identity) FROM mart_person_day_tool WHERE NOT is_attributed) AS unattributed_identities,
       (SELECT COALESCE(sum(tokens), 0) FROM mart_person_day_tool WHERE NOT is_attributed) AS unattributed_tokens,
       (SELECT count(*) FROM rejected_rows) AS rejected,
       (SELECT min(day) FROM mart_person_day_tool) AS first_day,
       (SELECT max(day) FROM mart_person_day_tool) AS last_day;
