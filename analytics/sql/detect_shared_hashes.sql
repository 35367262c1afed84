-- grain: one row per person_hash (hash(user_id)) that more than one person's id gives, among every person events can
-- be attributed to (identity_lookup's), hence among det_evidence_day's: almost always none. The evidence queries find
-- a person's rows by person_hash alone unless theirs is here, since comparing the user_id as well means reading
-- that text column in every row group the person's rows sit in (two thirds of the read at 100 M events).
CREATE OR REPLACE TABLE det_shared_hashes AS
SELECT hash(user_id) AS person_hash
FROM (SELECT DISTINCT user_id FROM identity_lookup)
GROUP BY ALL HAVING count(*) > 1;
