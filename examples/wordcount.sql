-- The word count in SQL: the same records as examples/wordcount.yaml
-- (topic wordcounts: key the word, value the count in decimal).
CREATE STREAM lines (line VARCHAR) WITH (KAFKA_TOPIC='text-lines', VALUE_FORMAT='KAFKA', PARTITIONS=4);
CREATE STREAM words AS SELECT EXPLODE(REGEXP_SPLIT_TO_ARRAY(LCASE(line), '[^a-z0-9]+')) AS word FROM lines;
CREATE TABLE wordcounts WITH (KAFKA_TOPIC='wordcounts', KEY_FORMAT='KAFKA', VALUE_FORMAT='DELIMITED') AS
  SELECT word, COUNT(*) AS n FROM words WHERE word != '' GROUP BY word EMIT CHANGES;
