-- grain: one row per who (the person, or their peers pooled) and gap bin: the share of gaps between consecutive
-- prompts that fall in the bin; bins are quarter-decades of seconds. A prompt is a turn start as detection counts
-- them (a call a person sent: agent steps, unlabelled calls without a prompt and declared automation excluded),
-- and a gap counts when both prompts fall on the local days [$start, $end] (the heatmap's days). From detection's
-- det_evidence_day (sql/detect_evidence.sql): each day's gaps, binned, and its first and last prompt, which give
-- the gap from one day's last prompt to the next day's first.
-- (Until marts version 8 this read the events: every non-agent call within the UTC days [$start, $end + 1], the
-- first one's gap uncounted. The chart means the same; its days are now the person's local ones, as the heatmap's.)
WITH peers AS (
    SELECT user_id, hash(user_id) AS person_hash FROM (
        SELECT DISTINCT user_id FROM det_person_week
        WHERE peer_group = (SELECT mode(peer_group) FROM det_person_week WHERE user_id = $user_id)
          AND user_id <> $user_id
        ORDER BY hash(user_id) LIMIT 50)
), days AS (
    -- found by person_hash, which orders the table: the peers are the first of their group by it
    SELECT 'this person' AS who, user_id, day, first_turn_ts, last_turn_ts, gaps
    FROM det_evidence_day
    WHERE person_hash = hash($user_id) AND user_id = $user_id
      AND day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE) AND first_turn_ts IS NOT NULL
    UNION ALL
    SELECT 'peers', d.user_id, d.day, d.first_turn_ts, d.last_turn_ts, d.gaps
    FROM det_evidence_day d JOIN peers p USING (person_hash, user_id)
    WHERE d.day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE) AND d.first_turn_ts IS NOT NULL
), overnight AS (
    SELECT who, epoch(first_turn_ts) - lag(epoch(last_turn_ts)) OVER (PARTITION BY user_id ORDER BY day) AS gap
    FROM days
), binned AS (
    SELECT who, g.log10_gap, sum(g.n) AS n FROM (SELECT who, unnest(gaps) AS g FROM days) GROUP BY ALL
    UNION ALL
    SELECT who, floor(log10(gap) * 4) / 4, count(*) FROM overnight WHERE gap >= 1 GROUP BY ALL
), totals AS (
    SELECT who, log10_gap, sum(n) AS n FROM binned GROUP BY ALL
)
SELECT who, log10_gap, n / sum(n) OVER (PARTITION BY who) AS share FROM totals ORDER BY who, log10_gap;
