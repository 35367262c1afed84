-- grain: one row when person $user_id is inside the viewer's scope (their team under one of its subtrees, or
-- the viewer themself), none otherwise
SELECT user_id FROM dim_people
WHERE user_id = $user_id AND (($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id)))) OR user_id = $scope_user);
