-- A Top-N updates the rows at each rank; the filesystem sink only appends.
CREATE TABLE src (id INT, k STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (k STRING, id INT, rn BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT k, id, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY id DESC) AS rn FROM src)
WHERE rn <= 2;
