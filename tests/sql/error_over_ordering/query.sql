-- An OVER window is ordered by the time attribute, as in Flink's streaming mode.
CREATE TABLE src (id INT, k STRING, ts TIMESTAMP(3)) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (k STRING, c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT k, COUNT(*) OVER (PARTITION BY k ORDER BY id) FROM src;
