-- grain: one row: all tokens, and the tokens and identities that no person matches (from the mart)
SELECT COALESCE(sum(tokens), 0) AS tokens,
       COALESCE(sum(tokens) FILTER (WHERE NOT is_attributed), 0) AS unattributed_tokens,
       count(DISTINCT identity) FILTER (WHERE NOT is_attributed) AS unattributed_identities
FROM mart_person_day_tool;
