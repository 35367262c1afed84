-- grain: one row per person and local day in the weeks [$lo, $hi] with calls (declared automation excluded): what
-- the evidence view draws for any date range, which analytics/detect.py stores as det_evidence_day (redoing the
-- weeks a refresh redoes), so that opening a case reads a few people's rows instead of the period's events. From
-- detect_events.sql's _det_hours and _det_turns, which hold every call of those days. Storing adds person_hash:
-- hash(user_id), which the stored rows are ordered by (then day), so that one person's rows, and the peers the gap
-- histogram compares with (the first of their group by this hash), sit in few row groups (analytics/detect.py).
--   cells: per local hour with calls, the tokens and calls (q_evidence_heatmap.sql)
--   first_turn_ts, last_turn_ts: the day's first and last turn start (prompt), NULL without one
--   gaps: per quarter-decade of seconds, how many of the day's turns came that long after the day's turn before
--         (q_evidence_gaps.sql adds the gap from one day's last turn to the next day's first)
CREATE OR REPLACE TEMP TABLE _det_evidence_day AS
WITH hours AS (
    SELECT user_id, CAST(local_hour AS DATE) AS day,
           list_sort(list({'hour': hour(local_hour), 'tokens': tokens, 'calls': calls})) AS cells
    FROM _det_hours WHERE CAST(date_trunc('week', local_hour) AS DATE) BETWEEN $lo AND $hi
    GROUP BY ALL
), turns AS (
    SELECT user_id, CAST(local_ts AS DATE) AS day,
           CASE WHEN after_same_day AND gap >= 1 THEN floor(log10(gap) * 4) / 4 END AS log10_gap,
           count(*) AS turns, min(ts) AS first_ts, max(ts) AS last_ts
    FROM _det_turns WHERE CAST(date_trunc('week', local_ts) AS DATE) BETWEEN $lo AND $hi
    GROUP BY ALL
), turn_days AS (
    SELECT user_id, day, min(first_ts) AS first_turn_ts, max(last_ts) AS last_turn_ts,
           list_sort(list({'log10_gap': log10_gap, 'n': turns}) FILTER (WHERE log10_gap IS NOT NULL)) AS gaps
    FROM turns GROUP BY ALL
)
SELECT h.user_id, h.day, h.cells, t.first_turn_ts, t.last_turn_ts, t.gaps
FROM hours h LEFT JOIN turn_days t USING (user_id, day);
