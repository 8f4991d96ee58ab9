-- The OVER aggregates of one window order share one frame, as in Flink.
CREATE TABLE src (id INT, k STRING, ts TIMESTAMP(3)) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (k STRING, c BIGINT, d BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT k,
  COUNT(*) OVER (PARTITION BY k ORDER BY ts),
  COUNT(*) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
FROM src;
