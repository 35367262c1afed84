-- grain: one row per who (the person, or their peers pooled) and gap bin: the share of gaps between consecutive
-- prompts that fall in the bin; bins are quarter-decades of seconds. A prompt is a turn start as detection counts
-- them (a call a person sent: agent steps, unlabelled calls without a prompt and declared automation excluded),
-- and a gap counts when both prompts fall on the local days [$start, $end] (the heatmap's days). From detection's
-- det_evidence_day (sql/detect_evidence.sql): each day's gaps, binned, and its first and last prompt, which give
-- the gap from one day's last prompt to the next day's first.
-- (Until marts version 8 this read the events: every non-agent call within the UTC days [$start, $end + 1], the
-- first one's gap uncounted. The chart means the same; its days are now the person's local ones, as the heatmap's.)
-- The peers are the first 50 by hash(user_id) of the people with a week in the person's usual peer group, other than
-- the person: det_peer_people holds each group's first 51, and det_evidence_peers their gaps, flat (a row per day's
-- gap bin, `since` = the day, and per gap overnight, `since` = the day before's with a prompt: analytics/detect.py
-- PEER_DAYS), so that their gaps of [$start, $end] are the rows of its days whose `since` falls in it (a gap overnight
-- counts when both prompts fall in the range), a small table of plain columns summed once.
WITH peers AS (
    SELECT person_hash, user_id FROM det_peer_people
    WHERE peer_group = (SELECT mode(peer_group) FROM det_person_week WHERE user_id = $user_id)
      AND user_id <> $user_id
    ORDER BY person_hash, user_id LIMIT 50
), mine AS (
    -- found by person_hash, which orders the table (here and below the user_id is compared only when some person's
    -- id has the same hash as another's, $hash_shared: sql/detect_shared_hashes.sql); days without a prompt too, whose
    -- gaps are none: leaving them out here would test first_turn_ts in every row of the row groups read
    SELECT day, first_turn_ts, last_turn_ts, gaps
    FROM det_evidence_day
    WHERE person_hash = hash($user_id) AND (NOT $hash_shared OR user_id = $user_id)
      AND day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)
), overnight AS (
    SELECT epoch(first_turn_ts) - lag(epoch(last_turn_ts)) OVER (ORDER BY day) AS gap
    FROM mine WHERE first_turn_ts IS NOT NULL
), binned AS (
    SELECT 'this person' AS who, g.log10_gap, sum(g.n) AS n FROM (SELECT unnest(gaps) AS g FROM mine) GROUP BY ALL
    UNION ALL
    SELECT 'this person', floor(log10(gap) * 4) / 4, count(*) FROM overnight WHERE gap >= 1 GROUP BY ALL
    UNION ALL
    SELECT 'peers', d.log10_gap, sum(d.n)
    FROM det_evidence_peers d JOIN peers p ON d.person_hash = p.person_hash AND (NOT $hash_shared OR d.user_id = p.user_id)
    WHERE d.day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE) AND d.since >= CAST($start AS DATE)
    GROUP BY ALL
), totals AS (
    SELECT who, log10_gap, sum(n) AS n FROM binned GROUP BY ALL
)
SELECT who, log10_gap, n / sum(n) OVER (PARTITION BY who) AS share FROM totals ORDER BY who, log10_gap;
