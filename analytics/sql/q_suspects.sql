-- grain: one row per person scored by the last detection run, with name, team and org
SELECT d.user_id, p.display_name, p.team_id, p.team_name, p.org_id, p.org_name, d.suspicion, d.flagged,
       d.families, d.reasons, d.suspect_weeks, d.weeks, d.tokens, d.tokens_at_stake,
       d.first_suspect_week, d.last_suspect_week
FROM det_person d LEFT JOIN dim_people p USING (user_id)
ORDER BY d.flagged DESC, d.suspicion DESC, d.tokens DESC;
