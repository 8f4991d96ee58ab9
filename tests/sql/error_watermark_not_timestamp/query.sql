-- A watermark must be a timestamp, as Flink checks at CREATE TABLE.
CREATE TABLE src (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS id - 5)
  WITH ('connector' = 'datagen', 'number-of-rows' = '5');
CREATE TABLE out (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT id FROM src;
