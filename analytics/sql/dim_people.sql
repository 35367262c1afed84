-- grain: one row per person, with team, top-level org and working time zone
CREATE OR REPLACE TABLE dim_people AS
SELECT p.user_id, p.display_name, p.email, p.login, p.team_id, p.title,
       COALESCE(p.timezone, 'UTC') AS timezone, p.active_from, p.active_to,
       t.team_name, COALESCE(t.org_id, '(no org)') AS org_id, COALESCE(t.org_name, '(no org)') AS org_name,
       t.path AS team_path,
       -- the role: the title without seniority words, as detection's peer groups use (analytics/detect.py)
       COALESCE(nullif(trim(regexp_replace(regexp_replace(lower(COALESCE(p.title, '')),
           '\b(senior|sr|staff|principal|lead|junior|jr|associate|distinguished|[ivx]+|[0-9]+)\b\.?', ' ', 'g'),
           '\s+', ' ', 'g')), ''), 'unknown') AS role
FROM people p LEFT JOIN dim_teams t USING (team_id);
