-- grain: one row per week of one person in the last detection run: tokens, outcomes and what fired
SELECT week, tokens, peer_tokens, real_outcomes, tokens_per_outcome, tokens_per_outcome_peer, families, suspect
FROM det_person_week WHERE user_id = $user_id ORDER BY week;
