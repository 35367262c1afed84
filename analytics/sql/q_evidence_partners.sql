-- grain: one row per lockstep partner of one person: weeks and prompts they shared
SELECT d.partner, p.display_name, p.team_name, count(DISTINCT d.week) AS weeks, CAST(sum(d.shared) AS BIGINT) AS shared_prompts
FROM det_partners d LEFT JOIN dim_people p ON p.user_id = d.partner
WHERE d.user_id = $user_id GROUP BY ALL ORDER BY shared_prompts DESC LIMIT 20;
