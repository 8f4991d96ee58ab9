/* A literal with a decimal point is a DECIMAL, as in Flink: arithmetic on it
   is exact (0.1 + 0.2 is 0.3), and BIGINT times DECIMAL(3, 3) is a
   DECIMAL(23, 3), Nexmark q1's price in euros. */
CREATE TABLE src (price BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3',
  'fields.price.kind' = 'sequence', 'fields.price.start' = '999999999999', 'fields.price.end' = '1000000000001');
CREATE TABLE out (price BIGINT, euros DECIMAL(23, 3), exact STRING, sum_text STRING) WITH (
  'connector' = 'filesystem', 'path' = '${output}', 'format' = 'csv');
INSERT INTO out
SELECT price, 0.908 * price AS euros, CAST(0.908 * price AS STRING) AS exact,
  CAST(0.1 + 0.2 AS STRING) AS sum_text
FROM src;
