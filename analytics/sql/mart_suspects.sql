-- grain: one row per person the last detection run scored, with name, team and org, in the review queue's order (a
-- rank): q_suspects.sql without the viewer's scope, stored once per refresh so the page reads it instead of
-- joining and ordering every scored person on every view
CREATE OR REPLACE TABLE mart_suspects AS
SELECT row_number() OVER (ORDER BY d.flagged DESC, d.suspicion DESC, d.tokens DESC, d.user_id) AS rank,
       d.user_id, p.display_name, p.team_id, p.team_name, p.org_id, p.org_name, d.suspicion, d.flagged,
       d.families, d.reasons, d.suspect_weeks, d.weeks, d.tokens, d.tokens_at_stake,
       d.first_suspect_week, d.last_suspect_week
FROM det_person d LEFT JOIN dim_people p USING (user_id)
ORDER BY rank;
