-- grain: none; drops the temporary tables one detection run built (detect_features.sql)
DROP TABLE IF EXISTS _det_events;
DROP TABLE IF EXISTS _det_turns;
DROP TABLE IF EXISTS _det_turn_gaps;
DROP TABLE IF EXISTS _det_hours;
DROP TABLE IF EXISTS _det_evidence_day;
DROP TABLE IF EXISTS _det_sessions;
DROP TABLE IF EXISTS _det_prompts;
DROP TABLE IF EXISTS _det_near;
DROP TABLE IF EXISTS _det_content;
DROP TABLE IF EXISTS _det_fps;
DROP TABLE IF EXISTS _det_reach;
DROP TABLE IF EXISTS _det_partners;
DROP TABLE IF EXISTS _det_lockstep;
DROP TABLE IF EXISTS _det_week;
DROP TABLE IF EXISTS _det_day;
DROP TABLE IF EXISTS _det_active;
DROP TABLE IF EXISTS _det_event_week;
