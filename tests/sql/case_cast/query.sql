/* CASE, CAST into the sink's types, COALESCE and string functions. */
CREATE TABLE src (n BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '100',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '0', 'fields.n.end' = '4');
CREATE TABLE out (n INT, size STRING, label STRING, len BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT
  n,
  CASE WHEN n < 2 THEN 'small' WHEN n < 4 THEN 'medium' ELSE 'large' END,
  COALESCE(NULLIF(CONCAT_WS('-', 'row', CAST(n AS STRING)), 'row-0'), 'zero'),
  CHAR_LENGTH(CONCAT('ab', CAST(n * 100 AS STRING)))
FROM src;
