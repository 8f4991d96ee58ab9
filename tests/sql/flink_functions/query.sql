-- Flink functions DataFusion does not have under these names.
CREATE TABLE src (n INT) WITH ('connector' = 'datagen',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '5');
CREATE TABLE out (n INT, parity STRING, piece STRING, digits STRING, whole STRING) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT n, IF(n % 2 = 0, 'even', 'odd'), SPLIT_INDEX('a,b,c,d', ',', n - 1),
  REGEXP_EXTRACT(CONCAT('id-', CAST(n * 11 AS STRING), '-x'), 'id-([0-9]+)-(x)', 1),
  REGEXP_EXTRACT(CONCAT('n', CAST(n AS STRING)), '[a-z]3')
FROM src;
