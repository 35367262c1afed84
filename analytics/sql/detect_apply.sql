-- grain: one row per person and week in mart_person_week; marks a flagged person's suspect weeks (and clears
-- the marks of an earlier run, which a refresh of some weeks only keeps for the other weeks)
UPDATE mart_person_week
SET is_suspected = false, suspected_tokens = 0, suspected_cost_usd = 0
WHERE is_suspected;

UPDATE mart_person_week m
SET is_suspected = true,
    suspected_tokens = greatest(m.tokens - m.scheduled_tokens, 0),
    suspected_cost_usd = greatest(m.cost_usd - m.scheduled_cost_usd, 0)
FROM det_person_week w JOIN det_person p USING (user_id)
WHERE p.flagged AND w.suspect AND w.user_id = m.user_id AND w.week = m.week;
