-- An unbounded GROUP BY updates its results; the filesystem sink only appends.
CREATE TABLE src (id INT, k STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (k STRING, c BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out SELECT k, COUNT(*) FROM src GROUP BY k;
