-- An outer join retracts the NULL-padded rows it showed; the filesystem sink only appends.
CREATE TABLE src (id INT, k STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3');
CREATE TABLE out (k STRING, other STRING) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out SELECT a.k, b.k FROM src a LEFT JOIN src b ON a.id = b.id;
