-- grain: one row per peer group and person among the group's first 51 by hash(user_id) (then user_id), of the people
-- with a week in the group in the last detection run (det_person_week): whom the evidence view's gap chart can
-- compare a person with (q_evidence_gaps.sql: the first 50 of their peer group other than themself). Stored as
-- det_peer_people; det_evidence_peers keeps these people's evidence days, so that the chart reads a few thousand
-- rows of theirs instead of scanning det_evidence_day's row groups for fifty people scattered across it.
CREATE OR REPLACE TABLE det_peer_people AS
WITH firsts AS (
    -- min_by's n smallest (twice as fast as ranking every member of every group)
    SELECT peer_group, unnest(min_by(user_id, (hash(user_id), user_id), 51)) AS user_id
    FROM (SELECT DISTINCT peer_group, user_id FROM det_person_week WHERE peer_group IS NOT NULL)
    GROUP BY peer_group
)
SELECT peer_group, hash(user_id) AS person_hash, user_id FROM firsts ORDER BY peer_group, person_hash, user_id;
