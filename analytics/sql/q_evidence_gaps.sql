-- grain: one row per who (the person, or their peers pooled) and gap bin: the share of gaps between
-- consecutive prompts (agent steps excluded) that fall in the bin; bins are quarter-decades of seconds
WITH people AS (
    SELECT $user_id AS user_id, 'this person' AS who
    UNION ALL
    SELECT user_id, 'peers' FROM (
        SELECT DISTINCT user_id FROM det_person_week
        WHERE peer_group = (SELECT mode(peer_group) FROM det_person_week WHERE user_id = $user_id)
          AND user_id <> $user_id
        ORDER BY hash(user_id) LIMIT 50)
), starts AS (
    SELECT p.who, il.user_id, e.ts
    FROM usage_events e JOIN identity_lookup il ON il.identity = lower(e.user_id)
    JOIN people p ON p.user_id = il.user_id
    WHERE e.initiated_by NOT IN ('agent', 'schedule')
      AND e.ts BETWEEN CAST($start AS TIMESTAMP) AND CAST($end AS TIMESTAMP) + INTERVAL 1 DAY
), gaps AS (
    SELECT who, epoch(ts) - lag(epoch(ts)) OVER (PARTITION BY user_id ORDER BY ts) AS gap FROM starts
)
, binned AS (
    SELECT who, floor(log10(gap) * 4) / 4 AS log10_gap, count(*) AS n FROM gaps WHERE gap >= 1 GROUP BY ALL
)
SELECT who, log10_gap, n / sum(n) OVER (PARTITION BY who) AS share FROM binned ORDER BY who, log10_gap;
