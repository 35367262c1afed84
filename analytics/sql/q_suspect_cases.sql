-- grain: one row per flagged person in the viewer's scope in the last detection run, with name, team and org, in the
-- review queue's order (mart_suspects.sql's rank), each carrying the totals of everyone scored in the scope: how many
-- (scored_people), their tokens (scored_tokens) and the earliest suspect week of any of them, flagged or not
-- (scored_first_suspect_week). One row of totals alone (the person's columns NULL) when nobody in scope is flagged.
-- What the Suspected inflation page shows of everyone scored, without fetching each of them (61,000 at 100 M events).
WITH totals AS (
    SELECT count(*) AS scored_people, CAST(COALESCE(sum(tokens), 0) AS BIGINT) AS scored_tokens,
           min(first_suspect_week) AS scored_first_suspect_week
    FROM mart_suspects
    WHERE ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
), cases AS (
    SELECT * FROM mart_suspects
    WHERE flagged
      AND ($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id))))
)
SELECT c.user_id, c.display_name, c.team_id, c.team_name, c.org_id, c.org_name, c.suspicion, c.flagged, c.families,
       c.reasons, c.suspect_weeks, c.weeks, c.tokens, c.tokens_at_stake, c.first_suspect_week, c.last_suspect_week,
       t.scored_people, t.scored_tokens, t.scored_first_suspect_week
FROM totals t LEFT JOIN cases c ON true
ORDER BY c.rank;
