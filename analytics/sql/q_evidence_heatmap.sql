-- grain: one row per local weekday (1 = Monday) and hour with the person's event tokens and calls on the local days
-- [$start, $end] (declared automation excluded), from detection's det_evidence_day (sql/detect_evidence.sql): the
-- sums of the period's events, read from the person's rows only (found by person_hash, which orders the table; the
-- user_id is compared only when $hash_shared: some person's id has the same hash as another's,
-- sql/detect_shared_hashes.sql)
SELECT isodow(day) AS weekday, c.hour AS hour, CAST(sum(c.tokens) AS BIGINT) AS tokens, CAST(sum(c.calls) AS BIGINT) AS calls
FROM (
    SELECT day, unnest(cells) AS c FROM det_evidence_day
    WHERE person_hash = hash($user_id) AND (NOT $hash_shared OR user_id = $user_id)
      AND day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)
)
GROUP BY ALL ORDER BY weekday, hour;
