-- Access-log lines counted per minute of their own time (the time in
-- brackets), as examples/access-per-minute.yaml does: topic access_summary,
-- key the minute ('2022-01-01 12:00:00'), value the count in decimal, an
-- update per line; lines more than 30 seconds late for their minute are
-- dropped.
CREATE STREAM logs (line VARCHAR) WITH (KAFKA_TOPIC='access_logs', VALUE_FORMAT='KAFKA', PARTITIONS=1);
CREATE STREAM hits WITH (TIMESTAMP='t') AS
  SELECT PARSE_TIMESTAMP(REGEXP_EXTRACT('\[([^]]+)\]', line, 1), 'dd/MMM/yyyy:HH:mm:ss Z') AS t FROM logs;
CREATE TABLE access_summary WITH (KAFKA_TOPIC='access_summary', KEY_FORMAT='KAFKA', VALUE_FORMAT='DELIMITED') AS
  SELECT COUNT(*) AS hits FROM hits
  WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 30 SECONDS)
  GROUP BY 'all'
  PARTITION BY FORMAT_TIMESTAMP(WINDOWSTART, 'yyyy-MM-dd HH:mm:ss')
  EMIT CHANGES;
