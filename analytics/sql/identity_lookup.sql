-- grain: one row per lower-cased identity (user id, e-mail, login or mapped id) -> the person it names
-- A person's own user_id wins over an e-mail or login that happens to look the same.
CREATE OR REPLACE TABLE identity_lookup AS
SELECT identity, arg_min(user_id, priority) AS user_id
FROM (
    SELECT lower(user_id) AS identity, user_id, 0 AS priority FROM people
    UNION ALL SELECT lower(identity), user_id, 1 FROM identity_map
    UNION ALL SELECT lower(email), user_id, 2 FROM people WHERE email IS NOT NULL
    UNION ALL SELECT lower(login), user_id, 3 FROM people WHERE login IS NOT NULL
)
GROUP BY identity;
