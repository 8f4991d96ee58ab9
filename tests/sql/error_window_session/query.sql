-- SESSION windows are named as not built yet.
CREATE TABLE bid (auction BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
  WITH ('connector' = 'datagen', 'number-of-rows' = '5');
CREATE TABLE out (auction BIGINT, c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out
SELECT auction, COUNT(*)
FROM TABLE(SESSION(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND))
GROUP BY auction, window_start, window_end;
