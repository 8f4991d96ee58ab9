-- A SESSION window's rows only make sense merged by a window aggregation.
CREATE TABLE bid (auction BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
  WITH ('connector' = 'datagen', 'number-of-rows' = '5');
CREATE TABLE out (auction BIGINT, window_start TIMESTAMP(3)) WITH ('connector' = 'blackhole');
INSERT INTO out
SELECT auction, window_start
FROM TABLE(SESSION(TABLE bid, DESCRIPTOR(ts), INTERVAL '2' SECOND));
