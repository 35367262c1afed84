-- grain: one row per time zone people are in (and UTC) and quarter hour of UTC time from first_ts to last_ts
-- shift: local time minus UTC in that quarter hour, so an event's local time is ts + shift, joined on
-- (tz, bucket = epoch_us(ts) // 900000000). Every time zone's offset is a whole number of quarter hours and
-- changes only at one, so this is what timezone() gives event by event, for a few thousand conversions
-- instead of one per event (0.5 s of a 4 M-event week). Zones are checked at load (analytics/ingest.py).
CREATE OR REPLACE MACRO local_clock(first_ts, last_ts) AS TABLE
SELECT z.tz, epoch_us(s.t) // 900000000 AS bucket, timezone(z.tz, timezone('UTC', s.t)) - s.t AS shift
FROM (SELECT DISTINCT COALESCE(timezone, 'UTC') AS tz FROM dim_people UNION SELECT 'UTC') z,
     generate_series(time_bucket(INTERVAL 15 MINUTE, CAST(first_ts AS TIMESTAMP)), CAST(last_ts AS TIMESTAMP),
                     INTERVAL 15 MINUTE) s(t);
