-- Average latency per page over 5-minute windows advancing by a minute,
-- as examples/page-latency.yaml does: requests that did not fail with a
-- 5xx, grouped by the page in lower case; once a window closes (10 s of
-- grace), topic page-latency gets key 'page HH:MM' (the window's start),
-- value the average in ms.
CREATE STREAM requests (page VARCHAR, status INT, ms DOUBLE) WITH (KAFKA_TOPIC='requests', VALUE_FORMAT='JSON', PARTITIONS=4);
CREATE TABLE page_latency WITH (KAFKA_TOPIC='page-latency', KEY_FORMAT='KAFKA', VALUE_FORMAT='DELIMITED') AS
  SELECT LCASE(page) AS page, AVG(ms) AS avg_ms FROM requests
  WINDOW HOPPING (SIZE 5 MINUTES, ADVANCE BY 1 MINUTE, GRACE PERIOD 10 SECONDS)
  WHERE status < 500
  GROUP BY LCASE(page)
  PARTITION BY CONCAT(page, ' ', FORMAT_TIMESTAMP(WINDOWSTART, 'HH:mm'))
  EMIT FINAL;
