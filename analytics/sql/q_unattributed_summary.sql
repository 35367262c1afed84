-- grain: one row: all tokens, and the tokens and identities that no person matches (from the mart, through its
-- per identity and tool totals in mart_identity_tool)
SELECT COALESCE(sum(tokens), 0) AS tokens,
       COALESCE(sum(tokens) FILTER (WHERE NOT is_attributed), 0) AS unattributed_tokens,
       count(DISTINCT identity) FILTER (WHERE NOT is_attributed) AS unattributed_identities
FROM mart_identity_tool;
