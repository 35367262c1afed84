-- grain: one row when person $user_id is inside the viewer's scope (their team under one of its subtrees, or
-- the viewer themself), none otherwise; hash_shared: some person's id has the same hash as another's
-- (det_shared_hashes, almost always empty), so the evidence queries must compare user_id as well as the hash
SELECT user_id, EXISTS (SELECT 1 FROM det_shared_hashes) AS hash_shared FROM dim_people
WHERE user_id = $user_id AND (($scope_all OR (team_id IN (SELECT team_id FROM team_ancestors WHERE list_contains($scope_teams, ancestor_id)))) OR user_id = $scope_user);
