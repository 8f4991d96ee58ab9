-- ROW_NUMBER() without a filter bounding it is no Top-N.
CREATE TABLE src (id INT, k STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (k STRING, c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY id) FROM src;
