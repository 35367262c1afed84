-- grain: one row per time zone people are in (and UTC) and quarter hour of UTC time holding events, from the
-- first event at or after first_ts to the last at or before last_ts (none without events)
-- shift: local time minus UTC in that quarter hour, so an event's local time is ts + shift, joined on
-- (tz, bucket = epoch_us(ts) // 900000000). Every time zone's offset is a whole number of quarter hours and
-- changes only at one, so this is what timezone() gives event by event, for a few thousand conversions
-- instead of one per event (0.5 s of a 4 M-event week). Zones are checked at load (analytics/ingest.py).
CREATE OR REPLACE MACRO local_clock(first_ts, last_ts) AS TABLE
WITH span AS (
    SELECT time_bucket(INTERVAL 15 MINUTE, min(ts)) AS first_q, max(ts) AS last_q FROM usage_events
    WHERE ts >= CAST(first_ts AS TIMESTAMP) AND ts <= CAST(last_ts AS TIMESTAMP)
), quarters AS (
    SELECT unnest(generate_series(first_q, last_q, INTERVAL 15 MINUTE)) AS t FROM span
)
SELECT z.tz, epoch_us(q.t) // 900000000 AS bucket, timezone(z.tz, timezone('UTC', q.t)) - q.t AS shift
FROM (SELECT DISTINCT COALESCE(timezone, 'UTC') AS tz FROM dim_people UNION SELECT 'UTC') z, quarters q;
